from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.kb.helpers import make_article, make_section
from tests.tickets.factories import make_ticket


async def test_ticket_suggestions_follow_subject_comment_tags_locale_and_reader(client):
    section = await make_section(client)
    sid = section["id"]
    printers = await make_article(
        client, sid, {"en": ("Printer jams", "<p>Open the tray and pull the paper.</p>")}
    )
    internal = await make_article(
        client,
        sid,
        {"en": ("Printer escalation", "<p>Call the vendor about the printer.</p>")},
        visibility="internal",
    )
    tagged = await make_article(
        client, sid, {"en": ("Office hours", "<p>We open at nine.</p>")}, labels=["vip"]
    )
    await make_article(client, sid, {"en": ("Printer draft", "<p>printer</p>")}, status="draft")
    italian = await make_article(client, sid, {"it": ("Stampante inceppata", "<p>carta</p>")})
    customer, customer_headers = await make_user_with_token(client, locale="en")
    ticket = await make_ticket(
        client,
        requester_id=customer["id"],
        subject="Help",
        comment={"body": "The printer jammed with paper again"},
        tags=["vip"],
    )
    path = f"/v1/tickets/{ticket['id']}/suggested-articles"
    _, agent = await make_user_with_token(client, role="agent")
    staff = (await client.get(path, headers=agent)).json()["data"]
    assert [s["id"] for s in staff][:1] == [printers["id"]]
    assert {s["id"] for s in staff} == {printers["id"], internal["id"], tagged["id"]}
    by_id = {s["id"]: s for s in staff}
    assert by_id[internal["id"]]["url"] == f"/v1/kb/articles/{internal['id']}/translations/en"
    assert by_id[printers["id"]]["url"] == f"/v1/public/kb/articles/{printers['id']}?locale=en"
    assert "<mark>" in by_id[printers["id"]]["snippet"]
    mine = (await client.get(path, headers=customer_headers)).json()["data"]
    assert {s["id"] for s in mine} == {printers["id"], tagged["id"]}
    assert (await client.get(f"{path}?limit=1", headers=agent)).json()["data"][0]["id"] == (
        printers["id"]
    )
    _, stranger = await make_user_with_token(client)
    assert_problem(await client.get(path, headers=stranger), 404)
    assert_problem(await client.get(path), 401)
    assert_problem(await client.get(f"{path}?limit=21", headers=agent), 422)
    assert_problem(await client.get("/v1/tickets/999999/suggested-articles", headers=ADMIN), 404)
    # The requester's locale decides the language searched (it-IT reads it articles too).
    mario, _ = await make_user_with_token(client, locale="it-IT")
    stampante = await make_ticket(
        client,
        requester_id=mario["id"],
        subject="Stampante",
        comment={"body": "la stampante è inceppata"},
    )
    found = await client.get(f"/v1/tickets/{stampante['id']}/suggested-articles", headers=ADMIN)
    assert [s["id"] for s in found.json()["data"]] == [italian["id"]]


async def test_public_suggest_before_submitting(client):
    section = await make_section(client)
    article = await make_article(
        client, section["id"], {"ru": ("Как сменить пароль", "<p>Откройте настройки.</p>")}
    )
    suggested = await client.post(
        "/v1/public/kb/suggest",
        json={"subject": "Забыл пароля", "body": "не могу войти", "locale": "ru"},
    )
    assert [s["id"] for s in suggested.json()["data"]] == [article["id"]]
    for body in (
        {"subject": "?!", "locale": "ru"},
        {"subject": "", "body": "", "locale": "en"},
    ):
        empty = await client.post("/v1/public/kb/suggest", json=body)
        assert empty.status_code == 200, body
        assert empty.json()["data"] == [], body
    for bad in (
        {"subject": "x", "locale": "xx_YY!"},
        {"subject": "x"},
        {"subject": "x", "locale": "en", "extra": 1},
        {"subject": "x" * 501, "locale": "en"},
    ):
        assert_problem(await client.post("/v1/public/kb/suggest", json=bad), 422)

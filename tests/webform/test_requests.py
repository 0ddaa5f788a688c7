"""POST /v1/public/requests: the anonymous web form, its neutral answer and its bad inputs."""

import base64

import asyncpg

from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.mail.mailboxes import deliver, make_mailbox
from tests.mail.messages import message

PATH = "/v1/public/requests"


def form(email: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "Rosa Web",
        "email": email,
        "subject": "Cannot log in",
        "body": "The login page says my password expired.",
    }
    body.update(overrides)
    return body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def tickets_of(client, email: str) -> list[dict[str, object]]:
    users = (await client.get(f"/v1/users?identity=email:{email}", headers=ADMIN)).json()["data"]
    if not users:
        return []
    found = await client.get(f"/v1/tickets?requester_id={users[0]['id']}", headers=ADMIN)
    data: list[dict[str, object]] = found.json()["data"]
    return data


async def test_anonymous_request_opens_a_ticket_and_answers_the_same_for_everyone(client):
    files = [{"filename": "screen.png", "content_type": "image/png", "content": b64(b"\x89PNG1")}]
    first = await client.post(PATH, json=form("rosa@example.net", attachments=files))
    assert first.status_code == 202, first.text
    assert first.json() == {"status": "received", "ticket_id": None}

    [ticket] = await tickets_of(client, "rosa@example.net")
    assert (ticket["channel"], ticket["subject"]) == ("web", "Cannot log in")
    comments = (await client.get(f"/v1/tickets/{ticket['id']}/comments", headers=ADMIN)).json()
    [comment] = comments["data"]
    assert (comment["public"], comment["via"]) == (True, "web")
    assert comment["body"] == "The login page says my password expired."
    assert [a["filename"] for a in comment["attachments"]] == ["screen.png"]
    assert comment["source"] == {"web_form": {"name": "Rosa Web", "email": "rosa@example.net"}}
    customer = (await client.get(f"/v1/users/{ticket['requester_id']}", headers=ADMIN)).json()
    assert (customer["role"], customer["name"]) == ("customer", "Rosa Web")

    # Known address (under another typed name), a staff member's address, a new address:
    # one answer, byte for byte. The known customer's name is not changed by a stranger.
    agent = await make_user(client, role="agent")
    answers = [
        await client.post(PATH, json=form("ROSA@example.net", name="Mallory")),
        await client.post(PATH, json=form(agent["email"])),
        await client.post(PATH, json=form("someone.new@example.net")),
    ]
    assert {(a.status_code, a.content) for a in answers} == {(202, first.content)}
    assert len(await tickets_of(client, "rosa@example.net")) == 2
    assert await tickets_of(client, agent["email"]) == []
    renamed = (await client.get(f"/v1/users/{ticket['requester_id']}", headers=ADMIN)).json()
    assert renamed["name"] == "Rosa Web"

    # The customer never sees the form's record (staff-only `source`) through their token.
    _, customer_headers = await make_user_with_token(client, email="token.holder@example.net")
    mine = await client.post(PATH, json=form("ignored@example.net"), headers=customer_headers)
    assert mine.status_code == 202, mine.text
    own_id = mine.json()["ticket_id"]
    assert isinstance(own_id, int)
    own = await client.get(f"/v1/tickets/{own_id}/comments", headers=customer_headers)
    assert own.status_code == 200
    assert own.json()["data"][0].get("source") is None
    assert await tickets_of(client, "ignored@example.net") == []
    other = await client.get(f"/v1/tickets/{ticket['id']}", headers=customer_headers)
    assert_problem(other, 404)
    _, agent_headers = await make_user_with_token(client, role="agent")
    assert_problem(await client.post(PATH, json=form("x@example.net"), headers=agent_headers), 403)
    bad_token = {"Authorization": "Bearer hd_not-a-token"}
    assert_problem(await client.post(PATH, json=form("x@example.net"), headers=bad_token), 401)


async def test_the_sender_follows_up_by_email(client):
    box = await make_mailbox(client)
    sent = await client.post(PATH, json=form("follow@example.net"))
    assert sent.status_code == 202
    [ticket] = await tickets_of(client, "follow@example.net")
    raw = message(
        sender="Rosa <follow@example.net>", subject=f"Re: [#{ticket['id']}] Cannot log in"
    )
    delivered = await deliver(client, box["id"], raw)
    assert delivered["ticket_id"] == ticket["id"]
    comments = (await client.get(f"/v1/tickets/{ticket['id']}/comments", headers=ADMIN)).json()
    assert [c["via"] for c in comments["data"]] == ["web", "email"]


async def test_bad_requests_are_refused_and_leave_nothing(client, database_url):
    def attach(**overrides: object) -> list[dict[str, object]]:
        item: dict[str, object] = {"filename": "a.txt", "content": b64(b"hello")}
        item.update(overrides)
        return [item]

    cases = [
        {k: v for k, v in form("a@example.net").items() if k != "email"},
        {k: v for k, v in form("a@example.net").items() if k != "name"},
        form("not-an-address"),
        form("a@example.net", subject=""),
        form("a@example.net", subject="two\nlines"),
        form("a@example.net", body=""),
        form("a@example.net", priority="urgent"),
        form("a@example.net", attachments=attach(content="***not base64***")),
        form("a@example.net", attachments=attach(content=b64(b""))),
        form("a@example.net", attachments=attach(filename="../../etc/passwd")),
        form("a@example.net", attachments=attach(content_type="not a type")),
        form("a@example.net", attachments=attach() * 6),
    ]
    for body in cases:
        problem = assert_problem(await client.post(PATH, json=body), 422)
        assert problem["errors"], body
    assert_problem(
        await client.post(PATH, content=b"{", headers={"content-type": "application/json"}), 422
    )
    connection = await asyncpg.connect(database_url)
    try:
        counts = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM tickets) AS tickets,"
            " (SELECT count(*) FROM users WHERE role = 'customer') AS customers,"
            " (SELECT count(*) FROM attachments) AS files,"
            " (SELECT count(*) FROM web_form_submissions) AS submissions"
        )
    finally:
        await connection.close()
    assert dict(counts) == {"tickets": 0, "customers": 0, "files": 0, "submissions": 0}


async def test_oversized_attachments_and_bodies_are_413(database_url):
    settings = make_settings(
        database_url, max_attachment_bytes=1024, web_form_max_body_bytes=16 * 1024
    )
    async with app_client(settings) as client:
        big = [{"filename": "big.bin", "content": b64(b"x" * 2000)}]
        assert_problem(await client.post(PATH, json=form("b@example.net", attachments=big)), 413)
        huge = form("b@example.net", body="y" * 20_000)
        assert_problem(await client.post(PATH, json=huge), 413)
        assert await tickets_of(client, "b@example.net") == []

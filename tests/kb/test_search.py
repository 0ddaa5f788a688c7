from tests.factories import assert_problem
from tests.kb.helpers import make_article, make_section, public_ids


async def _search(client, **params):
    response = await client.get("/v1/public/kb/articles", params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_search_stems_each_locale_and_ignores_diacritics(client):
    section = await make_section(client)
    en = await make_article(
        client, section["id"], {"en": ("Changing passwords", "<p>Go to Security.</p>")}
    )
    ru = await make_article(
        client, section["id"], {"ru": ("Как сменить пароль", "<p>Откройте настройки.</p>")}
    )
    it = await make_article(
        client, section["id"], {"it": ("Città e indirizzi", "<p>Modificare l'indirizzo.</p>")}
    )
    hu = await make_article(
        client, section["id"], {"hu": ("Elfelejtett jelszó", "<p>Új jelszót kérhet.</p>")}
    )
    ro = await make_article(
        client, section["id"], {"ro": ("Resetarea parolei", "<p>Alegeți o parolă nouă.</p>")}
    )
    de = await make_article(client, section["id"], {"de": ("Passwörter", "<p>Ändern</p>")})
    assert await public_ids(client, q="password", locale="en") == [en["id"]]
    assert await public_ids(client, q="пароля", locale="ru") == [ru["id"]]
    assert await public_ids(client, q="citta", locale="it") == [it["id"]]
    assert await public_ids(client, q="jelszo", locale="hu") == [hu["id"]]
    assert await public_ids(client, q="parola", locale="ro") == [ro["id"]]
    # Languages without a stemmer are matched word for word (accents still ignored).
    assert await public_ids(client, q="passworter", locale="de") == [de["id"]]
    # Stemming belongs to the locale: English words in the Russian index find nothing.
    assert await public_ids(client, q="password", locale="ru") == []


async def test_title_outranks_body_with_highlighted_snippets_and_filters(client):
    section = await make_section(client)
    other = await make_section(client, category_id=section["category_id"], name="Other")
    body_only = await make_article(
        client,
        section["id"],
        {"en": ("Account basics", "<p>About invoices &amp; <i>refunds</i> for <b>you</b>.</p>")},
        labels=["billing"],
    )
    titled = await make_article(
        client, other["id"], {"en": ("Refunds explained", "<p>How we pay back.</p>")}
    )
    hits = await _search(client, q="refund", locale="en")
    assert [h["id"] for h in hits] == [titled["id"], body_only["id"]]
    snippet = hits[1]["snippet"]
    assert "<mark>refunds</mark>" in snippet
    assert "&amp;" in snippet
    assert "<i>" not in snippet
    assert hits[0]["matched"] == "full_text"
    assert await public_ids(client, q="refund", locale="en", label="billing") == [body_only["id"]]
    assert await public_ids(client, q="refund", locale="en", section_id=other["id"]) == [
        titled["id"]
    ]
    assert await public_ids(
        client, q="refund", locale="en", category_id=section["category_id"], limit=1
    ) == [titled["id"]]
    page = await client.get(
        "/v1/public/kb/articles", params={"q": "refund", "locale": "en", "limit": 1}
    )
    rest = await _search(
        client, q="refund", locale="en", limit=1, cursor=page.json()["next_cursor"]
    )
    assert [h["id"] for h in rest] == [body_only["id"]]
    assert await public_ids(client, q="refund", locale="it") == []


async def test_short_queries_tolerate_typos(client):
    section = await make_section(client)
    article = await make_article(
        client, section["id"], {"en": ("Password reset", "<p>Use the link.</p>")}
    )
    hits = await _search(client, q="pasword", locale="en")
    assert [h["id"] for h in hits] == [article["id"]]
    assert hits[0]["matched"] == "fuzzy"
    assert await public_ids(client, q="pasword reset that is far too long", locale="en") == []


async def test_odd_queries_are_empty_or_422_never_500(client):
    section = await make_section(client)
    await make_article(client, section["id"], {"en": ("Password reset", "<p>Link.</p>")})
    for q in ("?!...", "&|!:*()", "''", "-", '"'):
        assert await _search(client, q=q, locale="en") == [], q
    for q in ("a & b | !c", "password:*", "<script>", "pass OR -word", '"password reset"'):
        await _search(client, q=q, locale="en")
    long = await client.get("/v1/public/kb/articles", params={"q": "x" * 2000, "locale": "en"})
    assert assert_problem(long, 422)["errors"][0]["loc"] == ["query", "q"]
    for bad in ("nul\x00byte", "bell\x07"):
        refused = await client.get("/v1/public/kb/articles", params={"q": bad, "locale": "en"})
        assert assert_problem(refused, 422)["errors"][0]["loc"] == ["query", "q"]
    assert await _search(client, q="   ", locale="en") == []
    nul_label = await client.get("/v1/public/kb/articles", params={"label": "a\x00"})
    assert_problem(nul_label, 422)
    no_locale = await client.get("/v1/public/kb/articles", params={"q": "password"})
    assert assert_problem(no_locale, 422)["errors"][0]["loc"] == ["query", "locale"]
    bad_locale = await client.get("/v1/public/kb/articles", params={"locale": "en_US!"})
    assert_problem(bad_locale, 422)
    unknown = await client.get("/v1/public/kb/articles", params={"lang": "en"})
    assert_problem(unknown, 422)
    bad_cursor = await client.get(
        "/v1/public/kb/articles", params={"q": "password", "locale": "en", "cursor": "nope"}
    )
    assert_problem(bad_cursor, 422)

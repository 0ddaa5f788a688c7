"""The public self-service API: what leaves through it, cache headers, votes."""

from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.kb.helpers import make_article, make_section, public_ids


async def _content(client):
    section = await make_section(client)
    sid = section["id"]
    texts = {"en": ("Printer setup", "<p>Printer guide</p>")}
    return {
        "public": await make_article(client, sid, texts),
        "signed_in": await make_article(client, sid, texts, visibility="signed_in"),
        "internal": await make_article(client, sid, texts, visibility="internal"),
        "draft": await make_article(client, sid, texts, status="draft"),
        "archived": await make_article(client, sid, texts, status="archived"),
    }


async def test_internal_drafts_and_archived_never_leave_through_public_paths(client):
    articles = await _content(client)
    ids = {name: a["id"] for name, a in articles.items()}
    shown = (await client.get(f"/v1/kb/articles/{ids['public']}", headers=ADMIN)).json()
    # A category whose only article is internal: its name does not leave either.
    hidden = await make_section(client, name="Escalations")
    await make_article(
        client, hidden["id"], {"en": ("Escalate", "<p>Call</p>")}, visibility="internal"
    )
    _, customer = await make_user_with_token(client)
    _, agent = await make_user_with_token(client, role="agent")
    expected = {
        "anonymous": ({}, [ids["public"]]),
        "customer": (customer, [ids["public"], ids["signed_in"]]),
        # Staff read drafts and internal articles through /v1/kb/, never here.
        "agent": (agent, [ids["public"], ids["signed_in"]]),
        "admin": (ADMIN, [ids["public"], ids["signed_in"]]),
    }
    for who, (headers, visible) in expected.items():
        assert await public_ids(client, headers) == visible, who
        assert await public_ids(client, headers, q="printer", locale="en") == visible, who
        assert await public_ids(client, headers, q="printr", locale="en") == visible, who
        for name, article_id in ids.items():
            path = f"/v1/public/kb/articles/{article_id}"
            read = await client.get(path, headers=headers)
            vote = await client.post(f"{path}/votes", json={"helpful": True}, headers=headers)
            if article_id in visible:
                assert read.status_code == 200, (who, name)
                assert vote.status_code == 200, (who, name)
            else:
                assert_problem(read, 404)
                assert_problem(vote, 404)
        suggested = await client.post(
            "/v1/public/kb/suggest",
            json={"subject": "printer", "body": "setup help", "locale": "en"},
            headers=headers,
        )
        assert sorted(s["id"] for s in suggested.json()["data"]) == visible, who
        categories = await client.get("/v1/public/kb/categories", headers=headers)
        sections = await client.get("/v1/public/kb/sections", headers=headers)
        assert [c["id"] for c in categories.json()["data"]] != [], who
        assert hidden["category_id"] not in [c["id"] for c in categories.json()["data"]], who
        assert [s["id"] for s in sections.json()["data"]] == [shown["section_id"]], who
        assert all(s["url"].startswith("/v1/public/kb/") for s in suggested.json()["data"])
    # A read shape names nothing staff-only.
    read = (await client.get(f"/v1/public/kb/articles/{ids['public']}")).json()
    assert "author_id" not in read
    assert "visibility" not in read
    assert "status" not in read
    bad_token = await client.get("/v1/public/kb/articles", headers={"Authorization": "Bearer x"})
    assert_problem(bad_token, 401)


async def test_public_reads_carry_cache_headers_and_answer_304(client):
    section = await make_section(client)
    article = await make_article(
        client, section["id"], {"en": ("Hello", "<p>World</p>"), "it": ("Ciao", "<p>Mondo</p>")}
    )
    path = f"/v1/public/kb/articles/{article['id']}"
    first = await client.get(path)
    assert first.status_code == 200
    assert first.json()["locale"] == "en"
    assert first.json()["locales"] == ["en", "it"]
    assert first.headers["cache-control"] == "public, max-age=60"
    assert first.headers["vary"] == "Authorization"
    etag = first.headers["etag"]
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert (await client.get(f"{path}?locale=it")).json()["title"] == "Ciao"
    assert (await client.get(f"{path}?locale=it-CH")).json()["title"] == "Ciao"
    assert_problem(await client.get(f"{path}?locale=de"), 404)
    await client.patch(
        f"/v1/kb/articles/{article['id']}/translations/en", json={"title": "Hi"}, headers=ADMIN
    )
    changed = await client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    _, customer = await make_user_with_token(client)
    private = await client.get(path, headers=customer)
    assert private.headers["cache-control"] == "private, max-age=60"
    for listing in ("/v1/public/kb/categories", "/v1/public/kb/sections", "/v1/public/kb/articles"):
        listed = await client.get(listing)
        assert listed.status_code == 200, listed.text
        assert listed.headers["etag"]
        assert listed.headers["cache-control"].startswith("public")
    sections = await client.get(f"/v1/public/kb/sections?category_id={section['category_id']}")
    assert [s["id"] for s in sections.json()["data"]] == [section["id"]]


async def test_one_vote_per_visitor_replays_count_once(client):
    section = await make_section(client)
    article = await make_article(client, section["id"], {"en": ("Hello", "<p>World</p>")})
    path = f"/v1/public/kb/articles/{article['id']}/votes"
    before = await client.get(f"/v1/kb/articles/{article['id']}", headers=ADMIN)
    first = await client.post(path, json={"helpful": True}, headers={"X-Visitor-Id": "a"})
    assert first.json() == {
        "article_id": article["id"],
        "helpful": True,
        "changed": True,
        "helpful_count": 1,
        "unhelpful_count": 0,
    }
    replay = await client.post(path, json={"helpful": True}, headers={"X-Visitor-Id": "a"})
    assert replay.json()["changed"] is False
    assert replay.json()["helpful_count"] == 1
    flipped = await client.post(path, json={"helpful": False}, headers={"X-Visitor-Id": "a"})
    assert (flipped.json()["helpful_count"], flipped.json()["unhelpful_count"]) == (0, 1)
    other = await client.post(path, json={"helpful": True}, headers={"X-Visitor-Id": "b"})
    assert (other.json()["helpful_count"], other.json()["unhelpful_count"]) == (1, 1)
    _, customer = await make_user_with_token(client)
    for visitor in ("c", "d"):  # a signed-in user is one visitor, whatever the header
        signed = await client.post(
            path, json={"helpful": True}, headers={**customer, "X-Visitor-Id": visitor}
        )
    assert signed.json()["helpful_count"] == 2
    assert_problem(await client.post(path, json={"helpful": "yes"}), 422)
    assert_problem(await client.post(path, json={"helpful": 1}), 422)
    assert_problem(await client.post(path, json={}), 422)
    # Votes are not edits: the article's ETag (for If-Match) does not move.
    staff = await client.get(f"/v1/kb/articles/{article['id']}", headers=ADMIN)
    assert staff.json()["helpful_count"] == 2
    assert staff.headers["etag"] == before.headers["etag"]
    assert staff.json()["updated_at"] == before.json()["updated_at"]


async def test_new_votes_per_address_are_limited(database_url):
    settings = make_settings(database_url, kb_votes_per_address_per_hour=2)
    async with app_client(settings) as client:
        section = await make_section(client)
        ids = [
            (await make_article(client, section["id"], {"en": (f"T{n}", "<p>B</p>")}))["id"]
            for n in range(3)
        ]
        for article_id in ids[:2]:
            voted = await client.post(
                f"/v1/public/kb/articles/{article_id}/votes", json={"helpful": True}
            )
            assert voted.status_code == 200
        limited = await client.post(
            f"/v1/public/kb/articles/{ids[2]}/votes",
            json={"helpful": True},
            headers={"X-Visitor-Id": "fresh"},
        )
        assert_problem(limited, 429)
        assert int(limited.headers["retry-after"]) > 0
        # Changing a vote already cast is not a new one.
        changed = await client.post(
            f"/v1/public/kb/articles/{ids[0]}/votes", json={"helpful": False}
        )
        assert changed.status_code == 200

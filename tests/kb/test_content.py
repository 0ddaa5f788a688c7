import asyncpg
import pytest

from helpdesk_api.core.db import to_libpq_url
from tests.factories import ADMIN, assert_problem, feed_once_visible, make_user_with_token
from tests.kb.helpers import make_article, make_section


async def _event_types(database_url: str) -> list[str]:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT type FROM events WHERE type LIKE 'article.%' OR type LIKE 'kb_%' ORDER BY id"
        )
    finally:
        await connection.close()
    return [r["type"] for r in rows]


async def test_admins_arrange_categories_and_sections_nested_one_level(client):
    category = (
        await client.post("/v1/kb/categories", json={"name": "Billing"}, headers=ADMIN)
    ).json()
    other = (await client.post("/v1/kb/categories", json={"name": "Other"}, headers=ADMIN)).json()
    top = await make_section(client, category_id=category["id"], name="Invoices")
    sub = await make_section(client, category_id=category["id"], parent_id=top["id"], name="VAT")
    assert sub["parent_id"] == top["id"]
    too_deep = await client.post(
        "/v1/kb/sections",
        json={"category_id": category["id"], "parent_id": sub["id"], "name": "Deeper"},
        headers=ADMIN,
    )
    assert assert_problem(too_deep, 422)["errors"][0]["loc"] == ["body", "parent_id"]
    elsewhere = await client.post(
        "/v1/kb/sections",
        json={"category_id": other["id"], "parent_id": top["id"], "name": "Mixed"},
        headers=ADMIN,
    )
    assert_problem(elsewhere, 422)
    unknown = await client.post(
        "/v1/kb/sections", json={"category_id": 999999, "name": "X"}, headers=ADMIN
    )
    assert assert_problem(unknown, 422)["errors"][0]["type"] == "unknown_category"
    # Moving the top section moves its subsection to the category with it.
    moved = await client.patch(
        f"/v1/kb/sections/{top['id']}", json={"category_id": other["id"]}, headers=ADMIN
    )
    assert moved.status_code == 200, moved.text
    listed = await client.get(f"/v1/kb/sections?category_id={other['id']}", headers=ADMIN)
    assert {s["id"] for s in listed.json()["data"]} == {top["id"], sub["id"]}
    assert_problem(await client.delete(f"/v1/kb/categories/{other['id']}", headers=ADMIN), 409)
    assert_problem(await client.delete(f"/v1/kb/sections/{top['id']}", headers=ADMIN), 409)
    assert (await client.delete(f"/v1/kb/sections/{sub['id']}", headers=ADMIN)).status_code == 204
    _, agent = await make_user_with_token(client, role="agent")
    assert_problem(await client.post("/v1/kb/categories", json={"name": "A"}, headers=agent), 403)
    assert (await client.get("/v1/kb/sections", headers=agent)).status_code == 200


async def test_translations_keep_revisions_flag_outdated_and_restore(client, database_url):
    section = await make_section(client)
    agent_user, agent = await make_user_with_token(client, role="agent")
    article = await make_article(
        client,
        section["id"],
        {"en": ("Reset your password", "<p>Open <b>settings</b>.</p>")},
        status="draft",
        headers=agent,
        labels=["account", "account", "login"],
    )
    assert article["labels"] == ["account", "login"]
    assert article["author_id"] == agent_user["id"]
    path = f"/v1/kb/articles/{article['id']}/translations"
    italian = await client.put(
        f"{path}/it",
        json={"title": "Reimposta la password", "body": "<p>Apri</p><script>alert(1)</script>"},
        headers=agent,
    )
    assert italian.status_code == 201, italian.text
    assert italian.json()["body"] == "<p>Apri</p>"
    assert italian.json()["status"] == "draft"
    assert italian.headers["location"] == f"{path}/it"
    # The source changes: the Italian translation is now outdated.
    source = await client.get(f"{path}/en", headers=agent)
    changed = await client.patch(
        f"{path}/en",
        json={"body": "<p>Open <b>settings</b>, then Security.</p>", "status": "published"},
        headers={**agent, "If-Match": source.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["published_at"] is not None
    stale = await client.patch(
        f"{path}/en", json={"title": "Stale"}, headers={**agent, "If-Match": source.headers["etag"]}
    )
    assert_problem(stale, 412)
    assert (await client.get(f"{path}/it", headers=agent)).json()["outdated"] is True
    summary = (await client.get(f"/v1/kb/articles/{article['id']}", headers=agent)).json()
    assert {t["locale"]: t["outdated"] for t in summary["translations"]} == {
        "en": False,
        "it": True,
    }
    # Writing the translation again clears its flag.
    rewritten = await client.patch(
        f"{path}/it", json={"body": "<p>Apri Sicurezza</p>"}, headers=agent
    )
    assert rewritten.json()["outdated"] is False

    revisions = (await client.get(f"{path}/en/revisions", headers=agent)).json()["data"]
    assert [r["status"] for r in revisions] == ["published", "draft"]
    first = revisions[-1]
    restored = await client.post(f"{path}/en/revisions/{first['id']}/restore", headers=agent)
    assert restored.status_code == 200, restored.text
    assert restored.json()["body"] == "<p>Open <b>settings</b>.</p>"
    assert restored.json()["status"] == "published"
    latest = (await client.get(f"{path}/en/revisions?limit=1", headers=agent)).json()["data"][0]
    assert latest["restored_from_id"] == first["id"]
    assert_problem(
        await client.post(f"{path}/it/revisions/{first['id']}/restore", headers=agent), 404
    )

    archived = await client.patch(f"{path}/en", json={"status": "archived"}, headers=agent)
    assert archived.json()["status"] == "archived"
    assert (await client.delete(f"{path}/it", headers=agent)).status_code == 204
    assert await _event_types(database_url) == [
        "kb_category.created",
        "kb_section.created",
        "article.created",
        "article.updated",
        "article.updated",
        "article.updated",
        "article.published",
        "article.updated",
        "article.updated",
        "article.updated",
        "article.archived",
        "article.translation_deleted",
    ]
    # Staff-only events: every staff member reads them in the feed (customers have no feed,
    # and their stream carries only their tickets' events: tests/events/test_stream.py).
    _, light_agent = await make_user_with_token(client, role="light_agent")
    feed = await feed_once_visible(client, "/v1/events?type=article.published", light_agent)
    assert [e["data"]["locale"] for e in feed] == ["en"]


async def test_bad_content_is_refused_whole(client):
    section = await make_section(client)
    article = await make_article(client, section["id"], {"en": ("Title", "<p>Body</p>")})
    path = f"/v1/kb/articles/{article['id']}/translations"
    bad_locale = await client.put(
        f"{path}/en_US!!", json={"title": "T", "body": "B"}, headers=ADMIN
    )
    assert assert_problem(bad_locale, 422)["errors"][0]["loc"] == ["path", "locale"]
    missing = await client.put(
        "/v1/kb/articles/999999/translations/en", json={"title": "T", "body": "B"}, headers=ADMIN
    )
    assert "Article 999999" in assert_problem(missing, 404)["detail"]
    assert_problem(await client.get(f"{path}/de", headers=ADMIN), 404)
    only_script = await client.put(
        f"{path}/de", json={"title": "T", "body": "<script>alert(1)</script>"}, headers=ADMIN
    )
    assert assert_problem(only_script, 422)["errors"][0]["loc"] == ["body", "body"]
    huge = await client.put(
        f"{path}/de", json={"title": "T", "body": "x" * 5_000_000}, headers=ADMIN
    )
    assert_problem(huge, 413)
    bad_visibility = await client.post(
        "/v1/kb/articles",
        json={"section_id": section["id"], "source_locale": "en", "visibility": "secret"},
        headers=ADMIN,
    )
    assert_problem(bad_visibility, 422)
    unknown_section = await client.post(
        "/v1/kb/articles",
        json={"section_id": 999999, "source_locale": "en", "visibility": "public"},
        headers=ADMIN,
    )
    assert assert_problem(unknown_section, 422)["errors"][0]["type"] == "unknown_section"
    listed = await client.get("/v1/kb/articles?locale=de", headers=ADMIN)
    assert listed.json()["data"] == []
    for role in ("light_agent", "customer"):
        _, headers = await make_user_with_token(client, role=role)
        assert_problem(
            await client.put(f"{path}/fr", json={"title": "T", "body": "B"}, headers=headers), 403
        )
    _, customer = await make_user_with_token(client)
    assert_problem(await client.get("/v1/kb/articles", headers=customer), 403)
    assert_problem(await client.get(f"{path}/en", headers=customer), 403)


@pytest.mark.parametrize("role", ["agent"])
async def test_staff_list_filters_by_label_section_status_and_locale(client, role):
    _, headers = await make_user_with_token(client, role=role)
    one = await make_section(client)
    two = await make_section(client, category_id=one["category_id"], name="Two")
    a = await make_article(client, one["id"], {"en": ("A", "a")}, labels=["vpn"])
    b = await make_article(client, two["id"], {"it": ("B", "b")}, status="draft")
    c = await make_article(
        client, two["id"], {"en": ("C", "c")}, visibility="internal", position=-1
    )

    async def ids(query: str) -> list[int]:
        response = await client.get(f"/v1/kb/articles?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [x["id"] for x in response.json()["data"]]

    assert await ids("") == [c["id"], a["id"], b["id"]]
    assert await ids("label=vpn") == [a["id"]]
    assert await ids(f"section_id={two['id']}") == [c["id"], b["id"]]
    assert await ids("status=draft") == [b["id"]]
    assert await ids("locale=en&visibility=internal") == [c["id"]]
    assert await ids(f"category_id={one['category_id']}&limit=1") == [c["id"]]
    page = await client.get("/v1/kb/articles?limit=2", headers=headers)
    rest = await client.get(
        f"/v1/kb/articles?limit=2&cursor={page.json()['next_cursor']}", headers=headers
    )
    assert [x["id"] for x in rest.json()["data"]] == [b["id"]]
    assert_problem(await client.get("/v1/kb/articles?locale=x!", headers=headers), 422)

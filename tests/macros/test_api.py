"""/v1/macros: who manages and sees which macro, validation at save, the list."""

import pytest

from tests.factories import ADMIN, assert_problem, feed_once_visible, make_user_with_token
from tests.macros.factories import apply, macro_body, make_macro
from tests.mail.factories import fetch_rows
from tests.tickets.factories import make_group, make_ticket


async def test_crud_with_etag_idempotency_and_events(client, database_url):
    headers = ADMIN | {"Idempotency-Key": "macro-1"}
    created = await client.post("/v1/macros", json=macro_body(), headers=headers)
    assert created.status_code == 201, created.text
    macro = created.json()
    assert created.headers["Location"] == f"/v1/macros/{macro['id']}"
    assert macro["usage_count"] == 0
    assert macro["owner_id"] is None
    assert macro["actions"] == [{"action": "set_priority", "priority": "high"}]
    replay = await client.post("/v1/macros", json=macro_body(), headers=headers)
    assert replay.json()["id"] == macro["id"]

    read = await client.get(f"/v1/macros/{macro['id']}", headers=ADMIN)
    etag = read.headers["ETag"]
    patch = {"title": "Ask again", "comment": None, "active": False}
    stale = await client.patch(
        f"/v1/macros/{macro['id']}", json=patch, headers=ADMIN | {"If-Match": '"macro-1-v9"'}
    )
    assert_problem(stale, 412)
    updated = await client.patch(
        f"/v1/macros/{macro['id']}", json=patch, headers=ADMIN | {"If-Match": etag}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["comment"] is None
    assert updated.json()["active"] is False
    assert updated.headers["ETag"] != etag
    # A macro with neither actions nor a comment does nothing: refused.
    empty = await client.patch(f"/v1/macros/{macro['id']}", json={"actions": []}, headers=ADMIN)
    assert assert_problem(empty, 422)["errors"][0]["loc"] == ["body", "actions"]

    deleted = await client.delete(
        f"/v1/macros/{macro['id']}", headers=ADMIN | {"If-Match": updated.headers["ETag"]}
    )
    assert deleted.status_code == 204
    assert_problem(await client.get(f"/v1/macros/{macro['id']}", headers=ADMIN), 404)
    rows = await fetch_rows(
        database_url, "SELECT type, data FROM events WHERE type LIKE 'macro.%' ORDER BY id"
    )
    assert [r["type"] for r in rows] == ["macro.created", "macro.updated", "macro.deleted"]


BAD = [
    ({"actions": [{"action": "notify", "recipient": "requester", "subject": "s", "body": "b"}]},
     ["body", "actions", 0, "action"]),
    ({"actions": [{"action": "call_webhook", "webhook_id": 1, "payload": "{}"}]},
     ["body", "actions", 0, "action"]),
    ({"actions": [{"action": "route"}]}, ["body", "actions", 0, "action"]),
    ({"actions": [{"action": "public_reply", "body": "hi"}]}, ["body", "actions", 0, "action"]),
    ({"actions": [{"action": "set_priority", "priority": "low"},
                  {"action": "set_status", "status_id": 999999}]},
     ["body", "actions", 1, "set_status", "status_id"]),
    ({"actions": [{"action": "set_group", "group_id": 999999}]},
     ["body", "actions", 0, "set_group", "group_id"]),
    ({"actions": [{"action": "set_assignee", "assignee_id": 999999}]},
     ["body", "actions", 0, "set_assignee", "assignee_id"]),
    ({"comment": {"body_template": "Hi {{ ticket.requester.nickname }}", "public": True}},
     ["body", "comment", "body_template"]),
    ({"comment": {"body_template": "Hi", "translations": {"de": "Hallo {{ agent.nam }}"}}},
     ["body", "comment", "translations", "de"]),
    ({"comment": {"body_template": "{% if %}"}}, None),
    ({"comment": {"body_template": "Hi", "translations": {"not a locale": "x"}}}, None),
    ({"visibility": "group"}, ["body", "group_id"]),
    ({"visibility": "shared", "group_id": 1}, ["body", "group_id"]),
    ({"visibility": "everyone"}, None),
    ({"actions": [], "comment": None}, ["body", "actions"]),
    ({"title": " "}, None),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "loc"), BAD)
async def test_a_macro_that_could_not_work_is_refused_at_the_bad_part(client, overrides, loc):
    body = assert_problem(await client.post("/v1/macros", json=macro_body(**overrides),
                                            headers=ADMIN), 422)  # fmt: skip
    if loc is not None:
        assert body["errors"][0]["loc"] == loc, body


async def test_who_sees_and_manages_which_macro(client):
    agent, agent_headers = await make_user_with_token(client, role="agent", name="Ann Agent")
    _, other_headers = await make_user_with_token(client, role="agent")
    _, customer_headers = await make_user_with_token(client)
    _, light_headers = await make_user_with_token(client, role="light_agent")
    group = await make_group(client, "Billing", agent["id"])
    shared = await make_macro(client, title="Shared")
    grouped = await make_macro(client, title="Grouped", visibility="group", group_id=group["id"])
    admins_own = await make_macro(client, title="Admin's own", visibility="personal")
    agents_own = await make_macro(client, agent_headers, title="Ann's own", visibility="personal")
    assert agents_own["owner_id"] == agent["id"]

    async def titles(headers):
        response = await client.get("/v1/macros?sort=title", headers=headers)
        assert response.status_code == 200, response.text
        return [m["title"] for m in response.json()["data"]]

    assert await titles(agent_headers) == ["Ann's own", "Grouped", "Shared"]
    assert await titles(other_headers) == ["Shared"]
    assert await titles(ADMIN) == ["Admin's own", "Grouped", "Shared"]

    # Agents keep personal macros only; nobody reaches another person's personal macro.
    for visibility in ({"visibility": "shared"}, {"visibility": "group", "group_id": group["id"]}):
        refused = await client.post("/v1/macros", json=macro_body(**visibility),
                                    headers=agent_headers)  # fmt: skip
        assert_problem(refused, 403)
    assert_problem(await client.patch(f"/v1/macros/{shared['id']}", json={"title": "x"},
                                      headers=agent_headers), 403)  # fmt: skip
    sharing = {"visibility": "shared"}
    assert_problem(await client.patch(f"/v1/macros/{agents_own['id']}", json=sharing,
                                      headers=agent_headers), 403)  # fmt: skip
    for path in (f"/v1/macros/{agents_own['id']}", f"/v1/macros/{grouped['id']}"):
        assert_problem(await client.get(path, headers=other_headers), 404)
        assert_problem(await client.delete(path, headers=other_headers), 404)
    assert_problem(await client.get(f"/v1/macros/{agents_own['id']}", headers=ADMIN), 404)
    assert_problem(await client.get(f"/v1/macros/{admins_own['id']}", headers=agent_headers), 404)
    renamed = await client.patch(f"/v1/macros/{agents_own['id']}", json={"title": "Mine"},
                                 headers=agent_headers)  # fmt: skip
    assert renamed.status_code == 200, renamed.text

    # Customers and light agents: 403 on every path, existing macros or not.
    ticket = await make_ticket(client)
    for headers in (customer_headers, light_headers):
        for response in (
            await client.get("/v1/macros", headers=headers),
            await client.post(
                "/v1/macros", json=macro_body(visibility="personal"), headers=headers
            ),
            await client.get(f"/v1/macros/{shared['id']}", headers=headers),
            await client.patch(f"/v1/macros/{shared['id']}", json={"title": "x"}, headers=headers),
            await client.delete(f"/v1/macros/{shared['id']}", headers=headers),
            await apply(client, ticket["id"], [shared["id"]], headers, preview=True),
        ):
            assert_problem(response, 403)


async def test_macro_events_reach_admins_only(client, database_url):
    _, agent_headers = await make_user_with_token(client, role="agent")
    customer, customer_headers = await make_user_with_token(client)
    await make_ticket(client, requester_id=customer["id"])
    await make_macro(client, agent_headers, visibility="personal", title="Private wording")

    async def types(headers):
        response = await client.get("/v1/events?limit=100", headers=headers)
        assert response.status_code == 200, response.text
        return {e["type"] for e in response.json()["data"]}

    seen = await feed_once_visible(client, "/v1/events?type=macro.created", ADMIN)
    assert [e["type"] for e in seen] == ["macro.created"]
    assert "macro.created" not in await types(agent_headers)
    assert_problem(await client.get("/v1/events", headers=customer_headers), 403)
    # What a customer's feed could ever select: public events of their tickets.
    rows = await fetch_rows(
        database_url, "SELECT is_public, ticket_id FROM events WHERE type LIKE 'macro.%'"
    )
    assert rows
    assert all(r["is_public"] is False and r["ticket_id"] is None for r in rows)


async def test_list_searches_titles_filters_and_sorts_by_usage(client):
    refund = await make_macro(client, title="Refund approved")
    await make_macro(client, title="Refund denied", active=False)
    shipping = await make_macro(client, title="Shipping delay (50% off)")
    ticket = await make_ticket(client)
    for _ in range(2):
        assert (await apply(client, ticket["id"], [shipping["id"]])).status_code == 200
    assert (await apply(client, ticket["id"], [refund["id"]])).status_code == 200

    async def titles(query):
        response = await client.get(f"/v1/macros?{query}", headers=ADMIN)
        assert response.status_code == 200, response.text
        return [m["title"] for m in response.json()["data"]]

    assert await titles("q=REFUND&sort=title") == ["Refund approved", "Refund denied"]
    assert await titles("q=refund&active=true") == ["Refund approved"]
    assert await titles("q=50%25") == ["Shipping delay (50% off)"]
    assert await titles("q=_") == []  # a LIKE wildcard is a plain character
    assert await titles("sort=usage") == [
        "Shipping delay (50% off)", "Refund approved", "Refund denied",
    ]  # fmt: skip
    used = (await client.get(f"/v1/macros/{shipping['id']}", headers=ADMIN)).json()
    assert used["usage_count"] == 2
    assert used["last_used_at"] is not None

    seen, cursor = [], None
    while True:
        query = "sort=title&limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(f"/v1/macros?{query}", headers=ADMIN)).json()
        seen += [m["title"] for m in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == 3
    assert_problem(await client.get("/v1/macros?limit=101", headers=ADMIN), 422)
    assert_problem(await client.get("/v1/macros?sort=popularity", headers=ADMIN), 422)

"""Saved views through the API: who sees which, what they list, their counts, bad input."""

from typing import Any

import httpx
import pytest

from tests.conftest import make_settings
from tests.factories import ADMIN, assert_problem, feed_once_visible, make_user_with_token
from tests.satisfaction.helpers import set_status
from tests.tickets.factories import make_group, make_ticket

UNSOLVED = ["new", "open", "pending", "on_hold"]


async def _view(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    body = {"title": "Mine", "visibility": "personal", "conditions": {}, **body}
    response = await client.post("/v1/views", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/views/{response.json()['id']}"
    created: dict[str, Any] = response.json()
    return created


async def _ids(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[int]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["data"]]


async def test_default_views_list_what_they_say_for_each_agent(client):
    me, my_headers = await make_user_with_token(client, role="agent")
    other, other_headers = await make_user_with_token(client, role="agent")
    group = await make_group(client, "Billing", me["id"])
    elsewhere = await make_group(client, "Hardware", other["id"])
    mine = await make_ticket(client, assignee_id=me["id"], group_id=group["id"])
    unassigned_here = await make_ticket(client, group_id=group["id"])
    await make_ticket(client, group_id=elsewhere["id"])  # unassigned, not my group
    solved = await make_ticket(client, assignee_id=me["id"], group_id=group["id"])
    await set_status(client, solved["id"], "solved")

    views = (await client.get("/v1/views", headers=my_headers)).json()["data"]
    by_title = {v["title"]: v["id"] for v in views}
    assert list(by_title) == [
        "My open tickets", "Unassigned in my groups", "SLA at risk", "Recently solved",
    ]  # fmt: skip
    assert await _ids(client, f"/v1/views/{by_title['My open tickets']}/tickets", my_headers) == [
        mine["id"]
    ]
    unassigned = f"/v1/views/{by_title['Unassigned in my groups']}/tickets"
    assert await _ids(client, unassigned, my_headers) == [unassigned_here["id"]]
    solved_view = f"/v1/views/{by_title['Recently solved']}/tickets"
    assert await _ids(client, solved_view, my_headers) == [solved["id"]]
    # The same shared view is another agent's own list.
    assert await _ids(client, f"/v1/views/{by_title['My open tickets']}/tickets",
                      other_headers) == []  # fmt: skip


async def test_personal_views_are_their_owners_and_only_admins_share(client):
    _, agent = await make_user_with_token(client, role="agent")
    _, colleague = await make_user_with_token(client, role="agent")
    own = await _view(client, agent, title="My urgent", conditions={
        "all": [{"field": "priority", "operator": "is", "value": "urgent"}]})  # fmt: skip
    assert own["owner_id"] is not None
    assert_problem(await client.get(f"/v1/views/{own['id']}", headers=colleague), 404)
    assert_problem(await client.get(f"/v1/views/{own['id']}/tickets", headers=colleague), 404)
    assert_problem(
        await client.get("/v1/views/counts", params={"ids": own["id"]}, headers=colleague), 404
    )
    listed = (await client.get("/v1/views", headers=colleague)).json()["data"]
    assert own["id"] not in [v["id"] for v in listed]
    shared = {"title": "All", "visibility": "shared", "conditions": {}}
    assert_problem(await client.post("/v1/views", json=shared, headers=agent), 403)
    _, customer = await make_user_with_token(client)
    for path in ("/v1/views", f"/v1/views/{own['id']}", f"/v1/views/{own['id']}/tickets"):
        assert_problem(await client.get(path, headers=customer), 403)

    # Edits need the current ETag when If-Match is sent, and only the owner makes them.
    etag = (await client.get(f"/v1/views/{own['id']}", headers=agent)).headers["etag"]
    renamed = await client.patch(f"/v1/views/{own['id']}", json={"title": "Urgent"},
                                 headers={**agent, "If-Match": etag})  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    stale = await client.patch(f"/v1/views/{own['id']}", json={"title": "Again"},
                               headers={**agent, "If-Match": etag})  # fmt: skip
    assert_problem(stale, 412)
    assert (await client.delete(f"/v1/views/{own['id']}", headers=agent)).status_code == 204
    assert_problem(await client.get(f"/v1/views/{own['id']}", headers=agent), 404)

    # Its events are the admins' (as macros'): an agent's personal view is theirs alone.
    seen = await feed_once_visible(client, "/v1/events?type=view.deleted", ADMIN)
    assert [e["type"] for e in seen] == ["view.deleted"]
    everyone = await client.get("/v1/events?limit=100", headers=colleague)
    assert not [e for e in everyone.json()["data"] if e["type"].startswith("view.")]


async def test_a_view_lists_through_the_callers_ticket_visibility(client):
    restricted, headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    group = await make_group(client, "Mine", restricted["id"])
    other = await make_group(client, "Not mine")
    visible = await make_ticket(client, group_id=group["id"], priority="high")
    await make_ticket(client, group_id=other["id"], priority="high")
    view = await _view(client, headers, conditions={
        "all": [{"field": "priority", "operator": "in", "value": ["high", "urgent"]}]})  # fmt: skip
    assert await _ids(client, f"/v1/views/{view['id']}/tickets", headers) == [visible["id"]]
    counts = await client.get("/v1/views/counts", params={"ids": view["id"]}, headers=headers)
    assert counts.json()["data"][0]["count"] == 1


@pytest.fixture
def settings(database_url):
    """Every test here: a cap small enough to reach, and counts kept past the test."""
    return make_settings(database_url, view_count_cap=2, view_count_ttl_seconds=3600)


async def test_counts_are_capped_and_kept_until_the_view_changes(client):
    _, agent = await make_user_with_token(client, role="agent")
    tagged = {"all": [{"field": "tags", "operator": "includes_any", "value": ["vip"]}]}
    view = await _view(client, agent, conditions=tagged, sort="created_at")
    everything = await _view(client, agent, title="All")
    first = await make_ticket(client, tags=["vip"])

    async def counts() -> dict[int, tuple[int, bool]]:
        response = await client.get(
            "/v1/views/counts", params=[("ids", view["id"]), ("ids", everything["id"])],
            headers=agent,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        return {c["view_id"]: (c["count"], c["capped"]) for c in response.json()["data"]}

    assert await counts() == {view["id"]: (1, False), everything["id"]: (1, False)}
    for _ in range(3):
        await make_ticket(client, tags=["vip"])
    # Kept for the TTL: a poll does not count again.
    assert await counts() == {view["id"]: (1, False), everything["id"]: (1, False)}
    # A changed view is a new count; past the cap it says so.
    changed = await client.patch(f"/v1/views/{view['id']}", json={"sort": "-created_at"},
                                 headers=agent)  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert (await counts())[view["id"]] == (2, True)
    listed = await _ids(client, f"/v1/views/{view['id']}/tickets?limit=2", agent)
    assert first["id"] not in listed  # newest first now
    assert len(listed) == 2


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"conditions": {"all": [{"field": "subject", "operator": "is", "value": "x"}]}},
         ["body", "conditions", "all", 0, "field"]),
        ({"conditions": {"all": [{"field": "priority", "operator": "changed"}]}},
         ["body", "conditions", "all", 0, "operator"]),
        ({"conditions": {"all": [{"field": "priority", "operator": "is", "value": "meh"}]}},
         ["body", "conditions", "all", 0, "value"]),
        ({"conditions": {"all": [{"field": "group_id", "operator": "in", "value": "mine"}]}},
         ["body", "conditions", "all", 0, "value"]),
        ({"conditions": {"all": [{"field": "priority", "operator": "is", "value": "me"}]}},
         ["body", "conditions", "all", 0, "value"]),
        ({"conditions": {"any": [{"field": "sla_status", "operator": "is", "value": "late"}]}},
         ["body", "conditions", "any", 0, "value"]),
        ({"conditions": {}, "columns": ["subject", "password"]}, ["body", "columns"]),
        ({"conditions": {}, "columns": []}, ["body", "columns"]),
        ({"conditions": {}, "sort": "subject"}, ["body", "sort"]),
        ({"conditions": {}, "visibility": "group"}, ["body", "group_id"]),
        ({"conditions": {}, "visibility": "group", "group_id": 999999}, ["body", "group_id"]),
        ({"conditions": {}, "group_id": 1}, ["body", "group_id"]),
    ],
)  # fmt: skip
async def test_bad_views_are_refused_with_the_path_of_the_bad_part(client, body, loc):
    sent = {"title": "Bad", "visibility": "shared", **body}
    problem = assert_problem(await client.post("/v1/views", json=sent, headers=ADMIN), 422)
    assert problem["errors"][0]["loc"][: len(loc)] == loc, problem
    assert "Bad" not in [
        v["title"] for v in (await client.get("/v1/views", headers=ADMIN)).json()["data"]
    ]


async def test_bad_count_requests_are_refused(client):
    for params in ({}, {"ids": "x"}, {"ids": "0"}, [("ids", str(n)) for n in range(1, 52)]):
        assert_problem(await client.get("/v1/views/counts", params=params, headers=ADMIN), 422)

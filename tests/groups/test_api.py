from typing import Any

import asyncpg
import httpx

from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.groups.service import is_member
from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token


async def make_group(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Support")
    response = await client.post("/v1/groups", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    return group


async def event_types(database_url: str) -> list[str]:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT type FROM events WHERE type LIKE 'group.%' ORDER BY id"
        )
    finally:
        await connection.close()
    return [r["type"] for r in rows]


async def test_admin_creates_group_and_reads_it_back(client):
    response = await client.post(
        "/v1/groups", json={"name": " Billing ", "description": "Money"}, headers=ADMIN
    )
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "Billing"
    assert created["is_active"] is True
    assert response.headers["location"] == f"/v1/groups/{created['id']}"
    read = await client.get(f"/v1/groups/{created['id']}", headers=ADMIN)
    assert read.json() == created
    assert read.headers["etag"] == response.headers["etag"]


async def test_name_clash_ignoring_case_is_409(client):
    await make_group(client, name="Billing")
    assert_problem(await client.post("/v1/groups", json={"name": "BILLING"}, headers=ADMIN), 409)


async def test_empty_name_is_422_naming_the_field(client):
    response = await client.post("/v1/groups", json={"name": "  "}, headers=ADMIN)
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "name"]


async def test_non_admins_cannot_write_groups(client):
    group = await make_group(client)
    member = await make_user(client, role="agent")
    for role in ("agent", "light_agent", "customer"):
        _, headers = await make_user_with_token(client, role=role)
        path = f"/v1/groups/{group['id']}"
        assert_problem(await client.post("/v1/groups", json={"name": role}, headers=headers), 403)
        assert_problem(await client.patch(path, json={"name": "x"}, headers=headers), 403)
        assert_problem(await client.delete(path, headers=headers), 403)
        assert_problem(await client.put(f"{path}/members/{member['id']}", headers=headers), 403)
        assert_problem(await client.delete(f"{path}/members/{member['id']}", headers=headers), 403)


async def test_staff_may_read_groups_and_members(client):
    group = await make_group(client)
    for role in ("agent", "light_agent"):
        _, headers = await make_user_with_token(client, role=role)
        assert (await client.get("/v1/groups", headers=headers)).status_code == 200
        assert (await client.get(f"/v1/groups/{group['id']}", headers=headers)).status_code == 200
        members = await client.get(f"/v1/groups/{group['id']}/members", headers=headers)
        assert members.status_code == 200


async def test_customer_cannot_read_groups(client):
    group = await make_group(client)
    _, customer = await make_user_with_token(client)
    assert_problem(await client.get("/v1/groups", headers=customer), 403)
    assert_problem(await client.get(f"/v1/groups/{group['id']}", headers=customer), 403)
    assert_problem(await client.get(f"/v1/groups/{group['id']}/members", headers=customer), 403)


async def test_unknown_group_is_404(client):
    agent = await make_user(client, role="agent")
    assert_problem(await client.get("/v1/groups/999999", headers=ADMIN), 404)
    assert_problem(await client.get("/v1/groups/999999/members", headers=ADMIN), 404)
    assert_problem(await client.put(f"/v1/groups/999999/members/{agent['id']}", headers=ADMIN), 404)


async def test_idempotent_create_replays_the_first_response(client):
    headers = {**ADMIN, "Idempotency-Key": "group-1"}
    first = await client.post("/v1/groups", json={"name": "Tier 1"}, headers=headers)
    again = await client.post("/v1/groups", json={"name": "Tier 1"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len((await client.get("/v1/groups", headers=ADMIN)).json()["data"]) == 1


async def test_patch_updates_and_changes_the_etag(client):
    group = await make_group(client, description="old")
    path = f"/v1/groups/{group['id']}"
    etag = (await client.get(path, headers=ADMIN)).headers["etag"]
    response = await client.patch(
        path, json={"description": None, "name": "Tier 2"}, headers={**ADMIN, "If-Match": etag}
    )
    assert response.status_code == 200
    assert response.json()["description"] is None
    assert response.json()["name"] == "Tier 2"
    assert response.headers["etag"] != etag


async def test_patch_with_stale_if_match_is_412(client):
    group = await make_group(client)
    path = f"/v1/groups/{group['id']}"
    etag = (await client.get(path, headers=ADMIN)).headers["etag"]
    await client.patch(path, json={"name": "A"}, headers={**ADMIN, "If-Match": etag})
    stale = await client.patch(path, json={"name": "B"}, headers={**ADMIN, "If-Match": etag})
    assert_problem(stale, 412)
    assert (await client.get(path, headers=ADMIN)).json()["name"] == "A"


async def test_renaming_onto_another_name_is_409(client):
    await make_group(client, name="A")
    b = await make_group(client, name="B")
    assert_problem(
        await client.patch(f"/v1/groups/{b['id']}", json={"name": "a"}, headers=ADMIN), 409
    )


async def test_delete_deactivates_and_keeps_the_group(client):
    group = await make_group(client)
    path = f"/v1/groups/{group['id']}"
    assert_problem(await client.delete(path, headers={**ADMIN, "If-Match": '"old"'}), 412)
    assert (await client.delete(path, headers=ADMIN)).status_code == 204
    read = await client.get(path, headers=ADMIN)
    assert read.json()["is_active"] is False
    active = await client.get("/v1/groups", params={"is_active": True}, headers=ADMIN)
    assert active.json()["data"] == []
    again = await client.patch(path, json={"is_active": True}, headers=ADMIN)
    assert again.json()["is_active"] is True


async def test_list_paginates_by_cursor(client):
    ids = [(await make_group(client, name=f"G{n}"))["id"] for n in range(5)]
    first = (await client.get("/v1/groups", params={"limit": 3}, headers=ADMIN)).json()
    second = (
        await client.get(
            "/v1/groups", params={"limit": 3, "cursor": first["next_cursor"]}, headers=ADMIN
        )
    ).json()
    assert [g["id"] for g in first["data"] + second["data"]] == ids
    assert second["next_cursor"] is None


async def test_bad_cursor_is_422(client):
    response = await client.get("/v1/groups", params={"cursor": "nonsense"}, headers=ADMIN)
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["query", "cursor"]


async def test_adding_a_member_is_idempotent(client, database_url):
    group = await make_group(client)
    agent = await make_user(client, role="agent")
    path = f"/v1/groups/{group['id']}/members/{agent['id']}"
    assert (await client.put(path, headers=ADMIN)).status_code == 204
    assert (await client.put(path, headers=ADMIN)).status_code == 204
    members = (await client.get(f"/v1/groups/{group['id']}/members", headers=ADMIN)).json()
    assert [u["id"] for u in members["data"]] == [agent["id"]]
    assert (await event_types(database_url)).count("group.member_added") == 1


async def test_every_staff_role_may_be_a_member(client):
    group = await make_group(client)
    for role in ("admin", "agent", "light_agent"):
        user = await make_user(client, role=role)
        response = await client.put(f"/v1/groups/{group['id']}/members/{user['id']}", headers=ADMIN)
        assert response.status_code == 204


async def test_customer_cannot_be_a_member(client):
    group = await make_group(client)
    customer = await make_user(client)
    response = await client.put(f"/v1/groups/{group['id']}/members/{customer['id']}", headers=ADMIN)
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["path", "user_id"]


async def test_unknown_user_is_422_at_the_path(client):
    group = await make_group(client)
    response = await client.put(f"/v1/groups/{group['id']}/members/999999", headers=ADMIN)
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["path", "user_id"]


async def test_removing_a_member(client):
    group = await make_group(client)
    agent = await make_user(client, role="agent")
    path = f"/v1/groups/{group['id']}/members/{agent['id']}"
    await client.put(path, headers=ADMIN)
    assert (await client.delete(path, headers=ADMIN)).status_code == 204
    members = (await client.get(f"/v1/groups/{group['id']}/members", headers=ADMIN)).json()
    assert members["data"] == []


async def test_removing_a_non_member_is_404(client):
    group = await make_group(client)
    agent = await make_user(client, role="agent")
    response = await client.delete(f"/v1/groups/{group['id']}/members/{agent['id']}", headers=ADMIN)
    assert_problem(response, 404)


async def test_members_list_paginates(client):
    group = await make_group(client)
    ids = []
    for _ in range(3):
        agent = await make_user(client, role="agent")
        await client.put(f"/v1/groups/{group['id']}/members/{agent['id']}", headers=ADMIN)
        ids.append(agent["id"])
    path = f"/v1/groups/{group['id']}/members"
    first = (await client.get(path, params={"limit": 2}, headers=ADMIN)).json()
    second = (
        await client.get(path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=ADMIN)
    ).json()
    assert [u["id"] for u in first["data"] + second["data"]] == ids
    assert second["next_cursor"] is None


async def test_making_a_member_a_customer_removes_them_from_groups(client, database_url):
    group = await make_group(client)
    agent = await make_user(client, role="agent")
    await client.put(f"/v1/groups/{group['id']}/members/{agent['id']}", headers=ADMIN)
    response = await client.patch(
        f"/v1/users/{agent['id']}", json={"role": "customer"}, headers=ADMIN
    )
    assert response.status_code == 200
    members = (await client.get(f"/v1/groups/{group['id']}/members", headers=ADMIN)).json()
    assert members["data"] == []
    assert (await event_types(database_url))[-1] == "group.member_removed"


async def test_changes_are_recorded_as_events(client, database_url):
    group = await make_group(client)
    agent = await make_user(client, role="agent")
    await client.patch(f"/v1/groups/{group['id']}", json={"name": "New"}, headers=ADMIN)
    await client.put(f"/v1/groups/{group['id']}/members/{agent['id']}", headers=ADMIN)
    await client.delete(f"/v1/groups/{group['id']}/members/{agent['id']}", headers=ADMIN)
    await client.delete(f"/v1/groups/{group['id']}", headers=ADMIN)
    assert await event_types(database_url) == [
        "group.created",
        "group.updated",
        "group.member_added",
        "group.member_removed",
        "group.updated",
    ]


async def test_is_member_answers_for_the_tickets_code(app, client):
    group = await make_group(client)
    member = await make_user(client, role="agent")
    outsider = await make_user(client, role="agent")
    await client.put(f"/v1/groups/{group['id']}/members/{member['id']}", headers=ADMIN)
    async with app.state.sessionmaker() as session:
        assert await is_member(session, group["id"], member["id"]) is True
        assert await is_member(session, group["id"], outsider["id"]) is False

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx

from helpdesk_api.core.db import to_libpq_url
from tests.factories import ADMIN, assert_problem, make_user_with_token

CATEGORIES = ["new", "open", "pending", "on_hold", "solved", "closed"]
SECRET = "Waiting on vendor bug"


@asynccontextmanager
async def connect(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        yield connection
    finally:
        await connection.close()


async def make_status(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"category": "pending", "agent_label": "Waiting on third party"}
    body.update(overrides)
    response = await client.post("/v1/ticket-statuses", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def list_statuses(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/ticket-statuses", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def default_of(client: httpx.AsyncClient, category: str) -> dict[str, Any]:
    defaults = [s for s in await list_statuses(client, category=category) if s["is_default"]]
    assert len(defaults) == 1
    return defaults[0]


async def insert_ticket(database_url: str, status: dict[str, Any]) -> None:
    async with connect(database_url) as db:
        admin_id = await db.fetchval("SELECT id FROM users WHERE role = 'admin' ORDER BY id")
        await db.execute(
            "INSERT INTO tickets (subject, requester_id, submitter_id, status_id,"
            " status_category, priority, priority_rank, channel)"
            " VALUES ('Printer on fire', $1, $1, $2, $3, 'normal', 2, 'api')",
            admin_id,
            status["id"],
            status["category"],
        )


async def test_migration_seeds_one_active_default_per_category(client):
    response = await client.get("/v1/ticket-statuses", headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [s["category"] for s in body["data"]] == CATEGORIES
    assert all(s["is_default"] and s["is_active"] for s in body["data"])


async def test_admin_creates_status_and_reads_it_back(client):
    response = await client.post(
        "/v1/ticket-statuses",
        json={"category": "open", "agent_label": "  Escalated  ", "description": "Tier 2"},
        headers=ADMIN,
    )
    assert response.status_code == 201
    created = response.json()
    assert created["agent_label"] == "Escalated"
    assert created["customer_label"] == "Escalated"
    assert created["is_default"] is False
    assert created["is_active"] is True
    assert created["position"] == 7  # after the six seeded statuses
    assert response.headers["location"] == f"/v1/ticket-statuses/{created['id']}"
    read = await client.get(response.headers["location"], headers=ADMIN)
    assert read.json() == created
    assert read.headers["etag"] == response.headers["etag"]


async def test_create_with_the_same_idempotency_key_replays(client):
    headers = {**ADMIN, "Idempotency-Key": "status-1"}
    body = {"category": "open", "agent_label": "Escalated"}
    first = await client.post("/v1/ticket-statuses", json=body, headers=headers)
    again = await client.post("/v1/ticket-statuses", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await list_statuses(client, category="open")) == 2


async def test_rename_changes_labels_and_etag(client):
    created = await make_status(client)
    etag = (await client.get(f"/v1/ticket-statuses/{created['id']}", headers=ADMIN)).headers["etag"]
    response = await client.patch(
        f"/v1/ticket-statuses/{created['id']}",
        json={"agent_label": "Vendor", "customer_label": "In progress", "description": None},
        headers={**ADMIN, "If-Match": etag},
    )
    assert response.status_code == 200
    assert response.json()["agent_label"] == "Vendor"
    assert response.json()["customer_label"] == "In progress"
    assert response.headers["etag"] != etag


async def test_reorder_moves_status_in_the_list(client):
    created = await make_status(client, category="open")
    response = await client.patch(
        f"/v1/ticket-statuses/{created['id']}", json={"position": 0}, headers=ADMIN
    )
    assert response.status_code == 200
    assert (await list_statuses(client))[0]["id"] == created["id"]


async def test_list_pages_by_position_then_id(client):
    tie = [await make_status(client, position=3) for _ in range(2)]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/ticket-statuses", params=params, headers=ADMIN)).json()
        seen += [s["id"] for s in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = await list_statuses(client)
    assert seen == [s["id"] for s in everything]
    assert len(seen) == 8
    positions = [(s["position"], s["id"]) for s in everything]
    assert positions == sorted(positions)
    assert seen.index(tie[0]["id"]) < seen.index(tie[1]["id"])


async def test_list_filters_by_category_and_active(client):
    spare = await make_status(client, category="solved")
    await client.patch(
        f"/v1/ticket-statuses/{spare['id']}", json={"is_active": False}, headers=ADMIN
    )
    solved = await list_statuses(client, category="solved")
    assert {s["id"] for s in solved} == {spare["id"], (await default_of(client, "solved"))["id"]}
    inactive = await list_statuses(client, active="false")
    assert [s["id"] for s in inactive] == [spare["id"]]
    assert len(await list_statuses(client, active="true")) == 6


async def test_new_default_replaces_the_previous_default_of_its_category(client):
    old = await default_of(client, "pending")
    created = await make_status(client, category="pending", is_default=True)
    assert created["is_default"] is True
    assert (await default_of(client, "pending"))["id"] == created["id"]
    previous = (await client.get(f"/v1/ticket-statuses/{old['id']}", headers=ADMIN)).json()
    assert previous["is_default"] is False
    assert previous["is_active"] is True


async def test_setting_is_default_moves_the_default(client):
    old = await default_of(client, "on_hold")
    created = await make_status(client, category="on_hold")
    response = await client.patch(
        f"/v1/ticket-statuses/{created['id']}", json={"is_default": True}, headers=ADMIN
    )
    assert response.status_code == 200
    assert response.json()["is_default"] is True
    assert (await default_of(client, "on_hold"))["id"] == created["id"]
    old_etag = (await client.get(f"/v1/ticket-statuses/{old['id']}", headers=ADMIN)).headers["etag"]
    assert old_etag.endswith('-v2"')  # the demoted default changed, so its ETag did too


async def test_unsetting_the_default_is_422_explaining_how_to_move_it(client):
    current = await default_of(client, "open")
    response = await client.patch(
        f"/v1/ticket-statuses/{current['id']}", json={"is_default": False}, headers=ADMIN
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "is_default"]
    assert "another status" in body["detail"]


async def test_deactivating_a_default_is_422(client):
    current = await default_of(client, "new")
    response = await client.patch(
        f"/v1/ticket-statuses/{current['id']}", json={"is_active": False}, headers=ADMIN
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "is_active"]
    assert (await default_of(client, "new"))["is_active"] is True


async def test_an_inactive_status_becomes_default_only_if_reactivated(client):
    created = await make_status(client, category="closed")
    url = f"/v1/ticket-statuses/{created['id']}"
    await client.patch(url, json={"is_active": False}, headers=ADMIN)
    refused = await client.patch(url, json={"is_default": True}, headers=ADMIN)
    assert assert_problem(refused, 422)["errors"][0]["loc"] == ["body", "is_default"]
    both = await client.patch(url, json={"is_default": True, "is_active": True}, headers=ADMIN)
    assert both.status_code == 200
    assert (await default_of(client, "closed"))["id"] == created["id"]


async def test_customer_never_sees_agent_labels_or_descriptions(client):
    created = await make_status(
        client,
        category="open",
        agent_label=SECRET,
        customer_label="In progress",
        description="Blocked by upstream ticket VEND-12",
    )
    _, customer = await make_user_with_token(client)
    responses = [
        await client.get("/v1/ticket-statuses", headers=customer),
        await client.get("/v1/ticket-statuses", params={"category": "open"}, headers=customer),
        await client.get(f"/v1/ticket-statuses/{created['id']}", headers=customer),
    ]
    for response in responses:
        assert response.status_code == 200
        assert SECRET not in response.text
        assert "VEND-12" not in response.text
    assert responses[2].json() == {
        "id": created["id"],
        "category": "open",
        "label": "In progress",
        "view": "customer",
    }
    for item in responses[0].json()["data"]:
        assert set(item) == {"id", "category", "label", "view"}


async def test_staff_get_the_full_representation(client):
    created = await make_status(client, agent_label=SECRET, customer_label="In progress")
    _, light_agent = await make_user_with_token(client, role="light_agent")
    response = await client.get(f"/v1/ticket-statuses/{created['id']}", headers=light_agent)
    assert response.json() == created


async def test_agent_cannot_write_statuses(client):
    created = await make_status(client)
    _, agent = await make_user_with_token(client, role="agent")
    url = f"/v1/ticket-statuses/{created['id']}"
    body = {"category": "open", "agent_label": "Mine"}
    assert_problem(await client.post("/v1/ticket-statuses", json=body, headers=agent), 403)
    assert_problem(await client.patch(url, json={"agent_label": "Mine"}, headers=agent), 403)
    assert_problem(await client.delete(url, headers=agent), 403)


async def test_requests_without_a_token_are_401(client):
    assert_problem(await client.get("/v1/ticket-statuses"), 401)
    assert_problem(await client.get("/v1/ticket-statuses/1"), 401)
    body = {"category": "open", "agent_label": "X"}
    assert_problem(await client.post("/v1/ticket-statuses", json=body), 401)


async def test_unknown_status_is_404(client):
    assert_problem(await client.get("/v1/ticket-statuses/999999", headers=ADMIN), 404)
    assert_problem(
        await client.patch("/v1/ticket-statuses/999999", json={"position": 1}, headers=ADMIN), 404
    )


async def test_unknown_category_is_422(client):
    response = await client.post(
        "/v1/ticket-statuses", json={"category": "waiting", "agent_label": "X"}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "category"]


async def test_empty_label_is_422(client):
    response = await client.post(
        "/v1/ticket-statuses", json={"category": "open", "agent_label": "   "}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "agent_label"]
    created = await make_status(client)
    patched = await client.patch(
        f"/v1/ticket-statuses/{created['id']}", json={"customer_label": ""}, headers=ADMIN
    )
    assert assert_problem(patched, 422)["errors"][0]["loc"] == ["body", "customer_label"]


async def test_null_for_a_label_is_422(client):
    created = await make_status(client)
    response = await client.patch(
        f"/v1/ticket-statuses/{created['id']}", json={"agent_label": None}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "agent_label"]


async def test_unknown_fields_are_refused(client):
    response = await client.post(
        "/v1/ticket-statuses",
        json={"category": "open", "agent_label": "X", "colour": "red"},
        headers=ADMIN,
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "colour"]


async def test_category_cannot_change(client):
    created = await make_status(client, category="pending")
    response = await client.patch(
        f"/v1/ticket-statuses/{created['id']}", json={"category": "open"}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "category"]


async def test_stale_if_match_is_412_and_changes_nothing(client):
    created = await make_status(client)
    url = f"/v1/ticket-statuses/{created['id']}"
    etag = (await client.get(url, headers=ADMIN)).headers["etag"]
    first = await client.patch(
        url, json={"agent_label": "First"}, headers={**ADMIN, "If-Match": etag}
    )
    assert first.status_code == 200
    stale = await client.patch(
        url, json={"agent_label": "Second"}, headers={**ADMIN, "If-Match": etag}
    )
    assert_problem(stale, 412)
    assert_problem(await client.delete(url, headers={**ADMIN, "If-Match": etag}), 412)
    assert (await client.get(url, headers=ADMIN)).json()["agent_label"] == "First"


async def test_unused_status_is_deleted(client):
    created = await make_status(client)
    url = f"/v1/ticket-statuses/{created['id']}"
    response = await client.delete(url, headers=ADMIN)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(url, headers=ADMIN), 404)


async def test_status_in_use_is_deactivated_instead_of_deleted(client, database_url):
    created = await make_status(client, category="open")
    await insert_ticket(database_url, created)
    url = f"/v1/ticket-statuses/{created['id']}"
    response = await client.delete(url, headers=ADMIN)
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]
    assert response.json()["is_active"] is False
    assert (await client.get(url, headers=ADMIN)).json()["is_active"] is False


async def test_default_status_cannot_be_deleted(client):
    current = await default_of(client, "solved")
    response = await client.delete(f"/v1/ticket-statuses/{current['id']}", headers=ADMIN)
    assert "default" in assert_problem(response, 422)["detail"]
    assert (await default_of(client, "solved"))["id"] == current["id"]


async def test_every_change_records_an_event(client, database_url):
    old = await default_of(client, "pending")
    created = await make_status(client, category="pending", is_default=True)
    url = f"/v1/ticket-statuses/{created['id']}"
    await client.patch(url, json={"agent_label": "Renamed"}, headers=ADMIN)
    await client.patch(f"/v1/ticket-statuses/{old['id']}", json={"is_default": True}, headers=ADMIN)
    await client.delete(url, headers=ADMIN)
    async with connect(database_url) as db:
        rows = await db.fetch(
            "SELECT type, data->>'ticket_status_id' AS status_id FROM events"
            " WHERE type LIKE 'ticket_status.%' ORDER BY events.id"
        )
    assert [(r["type"], r["status_id"]) for r in rows] == [
        ("ticket_status.updated", str(old["id"])),  # demoted by the new default
        ("ticket_status.created", None),
        ("ticket_status.updated", str(created["id"])),  # renamed
        ("ticket_status.updated", str(created["id"])),  # demoted again
        ("ticket_status.updated", str(old["id"])),  # default once more
        ("ticket_status.deleted", None),
    ]

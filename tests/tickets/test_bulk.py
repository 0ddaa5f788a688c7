"""PATCH /v1/tickets: the same changes to many tickets, all of them or none."""

from typing import Any

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.tickets.factories import audits, get_ticket, make_group, make_ticket, status_id


async def bulk(
    client: Any, ids: list[int], changes: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    return await client.patch(
        "/v1/tickets", json={"ids": ids, "changes": changes}, headers=headers or ADMIN
    )


async def snapshot(client: Any, ids: list[int]) -> list[dict[str, Any]]:
    return [await get_ticket(client, i) for i in ids]


async def test_bulk_applies_the_changes_to_every_ticket(client):
    agent = await make_user(client, role="agent")
    ids = [(await make_ticket(client, tags=["old"]))["id"] for _ in range(3)]

    response = await bulk(
        client, ids, {"assignee_id": agent["id"], "priority": "urgent", "add_tags": ["Bulk"]}
    )

    assert response.status_code == 200, response.text
    assert [t["id"] for t in response.json()["data"]] == ids
    for ticket in await snapshot(client, ids):
        assert ticket["assignee_id"] == agent["id"]
        assert ticket["priority"] == "urgent"
        assert ticket["tags"] == ["old", "bulk"]


async def test_bulk_returns_tickets_in_the_order_of_ids(client):
    ids = [(await make_ticket(client))["id"] for _ in range(3)]
    order = [ids[2], ids[0], ids[1]]

    response = await bulk(client, order, {"priority": "low"})

    assert response.status_code == 200, response.text
    assert [t["id"] for t in response.json()["data"]] == order


async def test_bulk_writes_one_audit_per_ticket(client):
    agent = await make_user(client, role="agent")
    ids = [(await make_ticket(client))["id"] for _ in range(3)]

    response = await bulk(client, ids, {"assignee_id": agent["id"], "priority": "high"})

    assert response.status_code == 200, response.text
    for ticket_id in ids:
        rows = await audits(client, ticket_id)
        assert len(rows) == 2  # the creation and the bulk change
        last = rows[-1]
        assert last["ticket_id"] == ticket_id
        assert last["via"] == "api"
        assert last["actor_id"] is not None
        assert {c["field"]: (c["from"], c["to"]) for c in last["changes"]} == {
            "assignee_id": (None, agent["id"]),
            "priority": ("normal", "high"),
        }


async def test_bulk_status_change_applies_to_every_ticket(client):
    ids = [(await make_ticket(client))["id"] for _ in range(2)]
    pending = await status_id(client, "pending")

    response = await bulk(client, ids, {"status_id": pending})

    assert response.status_code == 200, response.text
    assert all(t["status"]["category"] == "pending" for t in await snapshot(client, ids))


async def test_bulk_ticket_already_in_the_wanted_state_gets_no_audit(client):
    same = await make_ticket(client, priority="high")
    other = await make_ticket(client)

    response = await bulk(client, [same["id"], other["id"]], {"priority": "high"})

    assert response.status_code == 200, response.text
    assert len(await audits(client, same["id"])) == 1
    assert len(await audits(client, other["id"])) == 2


async def test_bulk_unknown_id_is_422_at_its_index_and_changes_nothing(client):
    ids = [(await make_ticket(client))["id"] for _ in range(2)]
    before = await snapshot(client, ids)

    response = await bulk(client, [ids[0], 999_999, ids[1]], {"priority": "urgent"})

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "ids", 1]
    assert await snapshot(client, ids) == before
    assert [len(await audits(client, i)) for i in ids] == [1] * len(ids)


async def test_bulk_change_invalid_for_one_ticket_changes_none(client):
    agent = await make_user(client, role="agent")
    colleague = await make_user(client, role="agent")
    with_agent = await make_group(client, "Tier 1", agent["id"])
    without_agent = await make_group(client, "Tier 2", colleague["id"])
    fits = await make_ticket(client, group_id=with_agent["id"])
    also_fits = await make_ticket(client)
    does_not_fit = await make_ticket(client, group_id=without_agent["id"])
    ids = [fits["id"], also_fits["id"], does_not_fit["id"]]
    before = await snapshot(client, ids)

    response = await bulk(client, ids, {"assignee_id": agent["id"]})

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "assignee_id"]
    assert await snapshot(client, ids) == before
    assert [len(await audits(client, i)) for i in ids] == [1] * len(ids)


async def test_bulk_tag_change_rolled_back_leaves_tag_counts(client):
    ticket = await make_ticket(client, tags=["vip"])
    closed = await make_ticket(client)
    await client.patch(
        f"/v1/tickets/{closed['id']}",
        json={"status_id": await status_id(client, "closed")},
        headers=ADMIN,
    )

    response = await bulk(client, [ticket["id"], closed["id"]], {"tags": ["fresh"]})

    assert_problem(response, 409)
    tags = await client.get("/v1/tags", headers=ADMIN)
    assert tags.json()["data"] == [{"name": "vip", "ticket_count": 1}]


async def test_bulk_with_a_closed_ticket_is_409_and_changes_nothing(client):
    open_ticket = await make_ticket(client)
    closed = await make_ticket(client)
    closing = await client.patch(
        f"/v1/tickets/{closed['id']}",
        json={"status_id": await status_id(client, "closed")},
        headers=ADMIN,
    )
    assert closing.status_code == 200, closing.text
    ids = [open_ticket["id"], closed["id"]]
    before = await snapshot(client, ids)

    response = await bulk(client, ids, {"priority": "urgent"})

    body = assert_problem(response, 409)
    assert str(closed["id"]) in body["detail"]
    assert await snapshot(client, ids) == before
    assert len(await audits(client, open_ticket["id"])) == 1


async def test_bulk_more_than_100_ids_is_422(client):
    ticket = await make_ticket(client)

    response = await bulk(client, list(range(1, 102)), {"priority": "urgent"})

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"][:2] == ["body", "ids"]
    assert (await get_ticket(client, ticket["id"]))["priority"] == "normal"


async def test_bulk_100_ids_is_within_the_limit(client):
    ticket = await make_ticket(client)

    response = await bulk(client, [ticket["id"], *range(10_000, 10_099)], {"priority": "urgent"})

    # Accepted by validation; refused only because the other ids do not exist.
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "ids", 1]


async def test_bulk_repeated_ids_is_422(client):
    ticket = await make_ticket(client)
    other = await make_ticket(client)

    response = await bulk(client, [ticket["id"], other["id"], ticket["id"]], {"priority": "low"})

    assert_problem(response, 422)
    assert (await get_ticket(client, ticket["id"]))["priority"] == "normal"


async def test_bulk_empty_ids_is_422(client):
    response = await bulk(client, [], {"priority": "low"})

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"][:2] == ["body", "ids"]


async def test_bulk_with_a_comment_is_422(client):
    ticket = await make_ticket(client)

    response = await bulk(client, [ticket["id"]], {"priority": "low", "comment": {"body": "Hi"}})

    assert_problem(response, 422)
    got = await get_ticket(client, ticket["id"])
    assert got["priority"] == "normal"
    assert got["comment_count"] == 1


async def test_bulk_unknown_change_field_is_422(client):
    ticket = await make_ticket(client)

    response = await bulk(client, [ticket["id"]], {"colour": "red"})

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "changes", "colour"]


async def test_bulk_by_customer_is_403(client):
    customer, customer_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, requester_id=customer["id"])

    response = await bulk(client, [ticket["id"]], {"priority": "urgent"}, customer_headers)

    assert_problem(response, 403)
    assert (await get_ticket(client, ticket["id"]))["priority"] == "normal"


async def test_bulk_by_light_agent_is_403(client):
    _, light_headers = await make_user_with_token(client, role="light_agent")
    ticket = await make_ticket(client)

    response = await bulk(client, [ticket["id"]], {"priority": "urgent"}, light_headers)

    assert_problem(response, 403)
    assert (await get_ticket(client, ticket["id"]))["priority"] == "normal"


async def test_bulk_by_agent_is_allowed(client):
    _, agent_headers = await make_user_with_token(client, role="agent")
    ticket = await make_ticket(client)

    response = await bulk(client, [ticket["id"]], {"priority": "urgent"}, agent_headers)

    assert response.status_code == 200, response.text
    assert (await get_ticket(client, ticket["id"]))["priority"] == "urgent"


async def test_bulk_assignee_me_is_the_caller_on_every_ticket(client):
    agent, agent_headers = await make_user_with_token(client, role="agent")
    ids = [(await make_ticket(client))["id"] for _ in range(2)]

    response = await bulk(client, ids, {"assignee_id": "me"}, agent_headers)

    assert response.status_code == 200, response.text
    assert [t["assignee_id"] for t in await snapshot(client, ids)] == [agent["id"]] * 2


async def test_bulk_by_group_restricted_agent_naming_an_invisible_ticket_is_422(client):
    agent, agent_headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    theirs = await make_group(client, "Tier 1", agent["id"])
    other = await make_group(client, "Tier 2")
    visible = await make_ticket(client, group_id=theirs["id"])
    invisible = await make_ticket(client, group_id=other["id"])
    ids = [visible["id"], invisible["id"]]
    before = await snapshot(client, ids)

    response = await bulk(client, ids, {"priority": "urgent"}, agent_headers)

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "ids", 1]
    assert await snapshot(client, ids) == before


async def test_bulk_by_group_restricted_agent_on_own_tickets_is_allowed(client):
    agent, agent_headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    theirs = await make_group(client, "Tier 1", agent["id"])
    in_group = await make_ticket(client, group_id=theirs["id"])
    assigned = await make_ticket(client, assignee_id=agent["id"])

    response = await bulk(
        client, [in_group["id"], assigned["id"]], {"priority": "low"}, agent_headers
    )

    assert response.status_code == 200, response.text
    assert [t["priority"] for t in response.json()["data"]] == ["low", "low"]

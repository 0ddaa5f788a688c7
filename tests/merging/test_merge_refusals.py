"""Merges that must be refused, each with a problem document and nothing changed."""

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.merging.factories import comments, merge
from tests.tickets.factories import get_ticket, make_group, make_ticket, status_id, update_ticket


async def test_merge_into_itself_is_422_naming_the_index(client):
    a, b = await make_ticket(client), await make_ticket(client)
    body = assert_problem(await merge(client, a["id"], [b["id"], a["id"]]), 422)
    assert body["errors"][0]["loc"] == ["body", "source_ids", 1]


async def test_merge_into_a_closed_ticket_is_409(client):
    a, b = await make_ticket(client), await make_ticket(client)
    await update_ticket(client, a["id"], status_id=await status_id(client, "closed"))
    assert_problem(await merge(client, a["id"], [b["id"]]), 409)
    assert (await get_ticket(client, b["id"]))["merged_into_id"] is None


async def test_a_source_already_merged_is_409(client):
    a, b, c = await make_ticket(client), await make_ticket(client), await make_ticket(client)
    assert (await merge(client, a["id"], [b["id"]])).status_code == 200
    body = assert_problem(await merge(client, c["id"], [b["id"]]), 409)
    assert str(b["id"]) in body["detail"]
    assert_problem(await merge(client, b["id"], [c["id"]]), 409)


async def test_a_closed_source_is_409(client):
    a, b = await make_ticket(client), await make_ticket(client)
    await update_ticket(client, b["id"], status_id=await status_id(client, "closed"))
    assert_problem(await merge(client, a["id"], [b["id"]]), 409)


async def test_unknown_source_is_422_naming_its_index(client):
    a, b = await make_ticket(client), await make_ticket(client)
    body = assert_problem(await merge(client, a["id"], [b["id"], 999_999]), 422)
    assert body["errors"][0]["loc"] == ["body", "source_ids", 1]
    assert (await get_ticket(client, b["id"]))["status"]["category"] != "closed"


async def test_unknown_target_is_404(client):
    b = await make_ticket(client)
    assert_problem(await merge(client, 999_999, [b["id"]]), 404)


async def test_invisible_tickets_read_as_nonexistent(client):
    agent, headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    group = await make_group(client, "Tier 1", agent["id"])
    mine = await make_ticket(client, group_id=group["id"])
    also_mine = await make_ticket(client, group_id=group["id"])
    hidden = await make_ticket(client)
    body = assert_problem(
        await merge(client, mine["id"], [also_mine["id"], hidden["id"]], headers), 422
    )
    assert body["errors"][0]["loc"] == ["body", "source_ids", 1]
    assert_problem(await merge(client, hidden["id"], [mine["id"]], headers), 404)
    assert len(await comments(client, mine["id"])) == 1


async def test_empty_too_many_or_repeated_sources_are_422(client):
    a = await make_ticket(client)
    for source_ids in ([], list(range(1, 52)), [5, 5]):
        assert_problem(await merge(client, a["id"], source_ids), 422)


async def test_customers_and_light_agents_cannot_merge(client):
    customer, customer_headers = await make_user_with_token(client)
    _, light = await make_user_with_token(client, role="light_agent")
    a = await make_ticket(client, requester_id=customer["id"])
    b = await make_ticket(client, requester_id=customer["id"])
    assert_problem(await merge(client, a["id"], [b["id"]], customer_headers), 403)
    assert_problem(await merge(client, a["id"], [b["id"]], light), 403)
    assert (await get_ticket(client, b["id"]))["merged_into_id"] is None


async def test_same_key_with_another_body_is_422(client):
    a, b, c = await make_ticket(client), await make_ticket(client), await make_ticket(client)
    headers = {**ADMIN, "Idempotency-Key": "merge-k"}
    assert (await merge(client, a["id"], [b["id"]], headers)).status_code == 200
    assert_problem(await merge(client, a["id"], [c["id"]], headers), 422)
    assert (await get_ticket(client, c["id"]))["merged_into_id"] is None

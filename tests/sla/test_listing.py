"""Queues by urgency: `sort=sla_breach_at` and `sla_status=breached|at_risk`."""

import pytest

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.sla.helpers import make_calendar, make_policy, target
from tests.tickets.factories import (
    comment,
    listed_ids,
    make_ticket,
    status_id,
    update_ticket,
    walk,
)


@pytest.fixture
async def policy(client):
    calendar = await make_calendar(client, name="24/7", always_open=True, hours=[])
    return await make_policy(
        client,
        calendar["id"],
        target("first_reply", 60),
        target("first_reply", 20, priority="urgent"),
        target("first_reply", 240, priority="low"),
    )


async def test_sort_by_sla_breach_at_puts_the_next_deadline_first(client, clock, policy):
    low = await make_ticket(client, priority="low")  # due in 4 h
    normal = await make_ticket(client)  # due in 1 h
    clock.advance(minutes=5)
    urgent = await make_ticket(client, priority="urgent")  # due in 25 min from the first
    assert await listed_ids(client, {"sort": "sla_breach_at"}) == [
        urgent["id"], normal["id"], low["id"],
    ]  # fmt: skip
    assert await listed_ids(client, {"sort": "-sla_breach_at"}) == [
        low["id"], normal["id"], urgent["id"],
    ]  # fmt: skip


async def test_sort_by_sla_breach_at_pages_with_a_cursor(client, clock, policy):
    ids = []
    for _ in range(5):
        ids.append((await make_ticket(client))["id"])
        clock.advance(minutes=1)
    pages = await walk(client, "/v1/tickets", {"sort": "sla_breach_at"}, limit=2)
    assert [t["id"] for page in pages for t in page] == ids
    assert [len(p) for p in pages] == [2, 2, 1]


async def test_sort_by_sla_breach_at_lists_only_tickets_with_a_running_clock(client, clock, policy):
    answered = await make_ticket(client)
    waiting = await make_ticket(client)
    await comment(client, answered["id"], ADMIN, body="Done")
    assert await listed_ids(client, {"sort": "sla_breach_at"}) == [waiting["id"]]


async def test_sla_status_breached_lists_tickets_past_a_deadline(client, clock, policy):
    late = await make_ticket(client, priority="urgent")
    in_time = await make_ticket(client)
    clock.advance(minutes=30)
    assert await listed_ids(client, {"sla_status": "breached"}) == [late["id"]]
    clock.advance(minutes=60)
    assert set(await listed_ids(client, {"sla_status": "breached"})) == {
        late["id"], in_time["id"],
    }  # fmt: skip


async def test_sla_status_at_risk_lists_tickets_past_the_warning_point(client, clock, policy):
    soon = await make_ticket(client, priority="urgent")  # warns at 15 min, due at 20
    await make_ticket(client)  # warns at 45 min
    clock.advance(minutes=16)
    assert await listed_ids(client, {"sla_status": "at_risk"}) == [soon["id"]]
    clock.advance(minutes=10)  # past its deadline: breached, no longer at risk
    assert await listed_ids(client, {"sla_status": "at_risk"}) == []


async def test_answered_ticket_is_neither_breached_nor_at_risk(client, clock, policy):
    ticket = await make_ticket(client, priority="urgent")
    clock.advance(minutes=16)
    await comment(client, ticket["id"], ADMIN, body="Here")
    clock.advance(minutes=30)
    assert await listed_ids(client, {"sla_status": "at_risk"}) == []
    assert await listed_ids(client, {"sla_status": "breached"}) == []


async def test_unknown_sla_status_is_422(client):
    response = await client.get("/v1/tickets?sla_status=late", headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "sla_status"]


async def test_customer_cannot_filter_by_sla_status(client):
    _, headers = await make_user_with_token(client)
    assert_problem(await client.get("/v1/tickets?sla_status=breached", headers=headers), 403)


async def test_customer_cannot_sort_by_sla_breach_at(client):
    _, headers = await make_user_with_token(client)
    assert_problem(await client.get("/v1/tickets?sort=sla_breach_at", headers=headers), 403)


async def test_paused_ticket_leaves_the_sla_queue_and_returns_later(client, clock, policy):
    first = await make_ticket(client)
    second = await make_ticket(client)
    clock.advance(minutes=10)
    await update_ticket(client, first["id"], status_id=await status_id(client, "pending"))
    assert await listed_ids(client, {"sort": "sla_breach_at"}) == [second["id"]]
    clock.advance(minutes=10)
    await update_ticket(client, first["id"], status_id=await status_id(client, "open"))
    # Paused for 10 minutes, so now due 10 minutes after the other.
    assert await listed_ids(client, {"sort": "sla_breach_at"}) == [second["id"], first["id"]]

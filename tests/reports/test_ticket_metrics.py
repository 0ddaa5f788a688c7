"""Per-ticket metrics kept by the pipeline, checked against a history built by hand."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from helpdesk_api.models import Ticket
from helpdesk_api.reports import compute_ticket_metrics
from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.sla.helpers import FixedClock, make_calendar, make_policy, target
from tests.tickets.factories import comment, make_group, make_ticket, status_id, update_ticket

MON_10_ROME = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _metrics(client: httpx.AsyncClient, ticket_id: int) -> dict:
    response = await client.get(f"/v1/tickets/{ticket_id}/metrics", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


async def _life(client: httpx.AsyncClient, clock: FixedClock) -> tuple[int, dict, dict]:
    """Monday 10:00 Rome (office 9-17 on weekdays): a customer's ticket, replied to at
    10:30, pending at 11:30, the customer answers at 18:00, an agent takes it and solves it
    with a reply on Tuesday 10:00, the customer reopens it at 11:00."""
    calendar = await make_calendar(client)
    await make_policy(client, calendar["id"], target("first_reply", 60))
    _customer, customer_headers = await make_user_with_token(client)
    agent, agent_headers = await make_user_with_token(client, role="agent")
    group = await make_group(client, "Support", agent["id"])
    clock.set(MON_10_ROME)
    ticket = await make_ticket(client, customer_headers)
    tid = ticket["id"]
    clock.advance(minutes=30)
    reply = await comment(client, tid, agent_headers, body="On it", public=True)
    assert reply.status_code == 201, reply.text
    clock.advance(minutes=5)
    note = await comment(client, tid, agent_headers, body="internal", public=False)
    assert note.status_code == 201
    clock.advance(minutes=55)
    await update_ticket(client, tid, agent_headers, status_id=await status_id(client, "pending"))
    clock.set(MON_10_ROME + timedelta(hours=8))  # 18:00 Rome, after hours
    assert (await comment(client, tid, customer_headers, body="still", public=True)).is_success
    clock.set(MON_10_ROME + timedelta(hours=24))
    await update_ticket(client, tid, agent_headers, assignee_id="me", group_id=group["id"],
                        status_id=await status_id(client, "solved"),
                        comment={"body": "Fixed", "public": True})  # fmt: skip
    solved = await _metrics(client, tid)
    clock.advance(hours=1)
    assert (await comment(client, tid, customer_headers, body="no", public=True)).is_success
    return tid, solved, await _metrics(client, tid)


async def test_metrics_follow_a_tickets_life_in_calendar_and_business_minutes(
    client: httpx.AsyncClient, clock: FixedClock, database_url: str
) -> None:
    tid, solved, reopened = await _life(client, clock)
    assert solved["first_reply_time"] == {"calendar_minutes": 30, "business_minutes": 30}
    # new 30 + open 60 (Monday) + open 18:00 → 10:00 (16 h, of which Tuesday 9-10 is open)
    assert solved["requester_wait_time"] == {"calendar_minutes": 1050, "business_minutes": 150}
    # pending 11:30 → 18:00, open until 17:00
    assert solved["agent_wait_time"] == {"calendar_minutes": 390, "business_minutes": 330}
    assert solved["on_hold_time"] == {"calendar_minutes": 0, "business_minutes": None}
    assert solved["full_resolution_time"] == {"calendar_minutes": 1440, "business_minutes": 480}
    assert solved["replies"] == 2
    assert solved["replies_at_solve"] == 2
    assert solved["one_touch"] is False
    assert (solved["reopens"], solved["assignee_changes"], solved["group_changes"]) == (0, 1, 1)
    assert solved["first_reply_at"] == "2026-11-23T09:30:00Z"
    assert solved["first_assigned_at"] == solved["solved_at"] == "2026-11-24T09:00:00Z"
    assert solved["calendar_id"] is not None

    assert reopened["reopens"] == 1
    assert reopened["solved_at"] is None
    assert reopened["replies_at_solve"] is None
    assert reopened["full_resolution_time"]["calendar_minutes"] is None
    assert reopened["replies"] == 2  # a customer's comment is no reply

    # The same history, folded once (as an import does): every audit at its time.
    # (the second: the default trigger's acknowledgement at creation)
    minutes = (0, 0, 30, 35, 90, 8 * 60, 24 * 60, 25 * 60)
    times = [MON_10_ROME + timedelta(minutes=m) for m in minutes]
    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        async with AsyncSession(engine) as session:
            ids = list(await session.scalars(
                text("SELECT id FROM ticket_audits WHERE ticket_id = :t ORDER BY id"), {"t": tid}
            ))  # fmt: skip
            assert len(ids) == len(times)
            for audit_id, at in zip(ids, times, strict=True):
                await session.execute(
                    text("UPDATE ticket_audits SET created_at = :at WHERE id = :id"),
                    {"at": at, "id": audit_id},
                )
            await session.execute(
                text("DELETE FROM ticket_metrics WHERE ticket_id = :t"), {"t": tid}
            )
            ticket = await session.scalar(select(Ticket).where(Ticket.id == tid))
            assert ticket is not None
            await compute_ticket_metrics(session, ticket, times[-1])
            await session.commit()
    finally:
        await engine.dispose()
    assert await _metrics(client, tid) == reopened


async def test_one_touch_and_hours_without_a_policy(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    clock.set(MON_10_ROME)
    ticket = await make_ticket(client, assignee_id=None)
    clock.advance(minutes=90)
    await update_ticket(client, ticket["id"], status_id=await status_id(client, "solved"),
                        comment={"body": "Done", "public": True})  # fmt: skip
    figures = await _metrics(client, ticket["id"])
    assert figures["one_touch"] is True
    assert figures["replies_at_solve"] == 1
    assert figures["first_reply_time"] == {"calendar_minutes": 90, "business_minutes": None}
    assert figures["full_resolution_time"]["calendar_minutes"] == 90
    assert figures["calendar_id"] is None


async def test_metrics_are_for_staff_who_may_see_the_ticket(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    _customer, customer_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, customer_headers)
    assert_problem(
        await client.get(f"/v1/tickets/{ticket['id']}/metrics", headers=customer_headers), 403
    )
    _, restricted = await make_user_with_token(client, role="agent", ticket_access="groups")
    assert_problem(await client.get(f"/v1/tickets/{ticket['id']}/metrics", headers=restricted), 404)
    assert_problem(await client.get("/v1/tickets/999999999/metrics", headers=ADMIN), 404)
    assert_problem(await client.get("/v1/tickets/0/metrics", headers=ADMIN), 422)

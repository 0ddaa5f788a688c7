"""The ticket-change pipeline: the worker changes tickets exactly as the API does, reactions
run in their declared order, and reactions that never settle are refused."""

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.assembly import connect
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.db import create_engine, create_sessionmaker
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import Ticket, TicketStatus, Via
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.comments import NewComment, add_comment
from helpdesk_api.tickets.lifecycle import set_status
from helpdesk_api.tickets.pipeline import (
    SESSION_KEY,
    ChangeDidNotSettle,
    Stage,
    StagedReaction,
    TicketChange,
    TicketPipeline,
    commit_change,
)
from helpdesk_api.worker.runner import run_worker
from tests.factories import ADMIN, make_user_with_token
from tests.sla.helpers import MONDAY_10_ROME, clock, make_calendar, make_policy, metric, target
from tests.tickets.factories import audits, make_ticket, status_id, update_ticket

SOLVED_AT = MONDAY_10_ROME + timedelta(minutes=20)
REOPENED_AT = MONDAY_10_ROME + timedelta(minutes=50)
AUTOMATION = Actor.system(Via.automation)
__all__ = ["clock"]  # the fixture


@pytest.fixture
async def policy(client):
    calendar = await make_calendar(client, name="24/7", always_open=True, hours=[])
    return await make_policy(
        client, calendar["id"], target("first_reply", 60), target("resolution", 240)
    )


async def _move(
    sessionmaker: async_sessionmaker[AsyncSession], ticket_id: int, status: int, now: datetime
) -> None:
    """What a worker job (a time-based rule, say) does: lock, change, commit through the
    pipeline, as the system."""
    async with sessionmaker() as session:
        ticket = await session.scalar(
            select(Ticket).where(Ticket.id == ticket_id).with_for_update()
        )
        new_status = await session.get(TicketStatus, status)
        assert ticket is not None
        assert new_status is not None
        changes = ChangeSet()
        set_status(ticket, new_status, changes, now)
        ticket.updated_at = now
        await session.flush()
        await commit_change(session, ticket, changes, actor=AUTOMATION, now=now)
        await session.commit()


async def _worker_moves(settings: Settings, moves: list[tuple[int, int, datetime]]) -> None:
    """Runs the real worker loop, with the assembly's sessions, until its one job is done."""
    stop = asyncio.Event()

    async def job(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> None:
        for ticket_id, status, when in moves:
            await _move(sessionmaker, ticket_id, status, when)
        stop.set()

    await asyncio.wait_for(run_worker(settings, connect, {"rule": job}, stop), timeout=30)


async def _clocks(client, ticket_id):
    return {name: await metric(client, ticket_id, name) for name in ("first_reply", "resolution")}


async def test_worker_changes_stop_and_restart_sla_clocks_as_the_api_does(
    client, clock, policy, settings
):
    by_api = await make_ticket(client)
    by_worker = await make_ticket(client)
    solved, opened = await status_id(client, "solved"), await status_id(client, "open")

    clock.set(SOLVED_AT)
    await update_ticket(client, by_api["id"], status_id=solved)
    clock.set(REOPENED_AT)
    await update_ticket(client, by_api["id"], status_id=opened)
    await _worker_moves(
        settings, [(by_worker["id"], solved, SOLVED_AT), (by_worker["id"], opened, REOPENED_AT)]
    )

    api_clocks, worker_clocks = (
        await _clocks(client, by_api["id"]),
        await _clocks(client, by_worker["id"]),
    )
    assert worker_clocks["resolution"]["status"] == "active"
    # Solved at 20 min, reopened at 50: the resolution clock paused for 30 minutes.
    assert worker_clocks["first_reply"]["status"] == api_clocks["first_reply"]["status"]
    for name in ("first_reply", "resolution"):
        for key in ("status", "breach_at", "warning_at", "achieved_at"):
            assert worker_clocks[name][key] == api_clocks[name][key], (name, key)
    worker_audits = [a for a in await audits(client, by_worker["id"]) if a["via"] == "automation"]
    assert [a["actor_id"] for a in worker_audits] == [None, None]


async def test_a_session_without_the_pipeline_refuses_to_change_a_ticket(client, database_url):
    ticket = await make_ticket(client)
    engine = create_engine(database_url, pool_size=1)
    try:
        with pytest.raises(RuntimeError, match="no ticket pipeline"):
            await _move(create_sessionmaker(engine), ticket["id"], 1, MONDAY_10_ROME)
    finally:
        await engine.dispose()
    assert len(await audits(client, ticket["id"])) == 1  # only its creation


async def _run_with(database_url: str, pipeline: TicketPipeline, ticket_id: int) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        sessionmaker = create_sessionmaker(engine, info={SESSION_KEY: pipeline})
        async with sessionmaker() as session:
            ticket = await session.get(Ticket, ticket_id, with_for_update=True)
            assert ticket is not None
            changes = ChangeSet()
            changes.set(ticket, "subject", "Changed")
            await session.flush()
            await commit_change(session, ticket, changes, actor=AUTOMATION, now=MONDAY_10_ROME)
            await session.commit()
    finally:
        await engine.dispose()


async def test_reactions_run_in_stage_order_and_their_follow_ups_run_again(client, database_url):
    ticket = await make_ticket(client)
    seen: list[tuple[str, list[str]]] = []

    def recorder(name: str):
        async def react(session: AsyncSession, change: TicketChange) -> None:
            seen.append((name, [c["field"] for c in change.changes.changes]))
            if name == "automation" and not change.changes.changed("priority"):
                change.ticket.priority_rank = 3
                change.follow_up_by(Actor.system(Via.trigger)).set(
                    change.ticket, "priority", "high"
                )

        return react

    pipeline = TicketPipeline(
        [
            StagedReaction(Stage.propagation, recorder("propagation")),
            StagedReaction(Stage.automation, recorder("automation")),
            StagedReaction(Stage.sla, recorder("sla")),
        ]
    )
    await _run_with(database_url, pipeline, ticket["id"])
    assert seen == [
        ("automation", ["subject"]),
        ("sla", ["subject"]),
        ("propagation", ["subject"]),
        ("automation", ["priority"]),
        ("sla", ["priority"]),
        ("propagation", ["priority"]),
    ]
    # Each round is audited by whoever made it; the event tells the whole change.
    trail = await audits(client, ticket["id"])
    assert [(a["via"], [c["field"] for c in a["changes"]]) for a in trail[-2:]] == [
        ("automation", ["subject"]),
        ("trigger", ["priority"]),
    ]
    body = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).json()
    assert (body["subject"], body["priority"]) == ("Changed", "high")


async def test_a_reaction_that_never_settles_is_refused_and_rolls_back(client, database_url):
    ticket = await make_ticket(client)

    async def flip(session: AsyncSession, change: TicketChange) -> None:
        new = "low" if change.ticket.priority == "high" else "high"
        change.follow_up_by(Actor.system(Via.trigger)).set(change.ticket, "priority", new)

    with pytest.raises(ChangeDidNotSettle, match="kept changing"):
        await _run_with(database_url, TicketPipeline([StagedReaction(Stage.automation, flip)]),
                        ticket["id"])  # fmt: skip
    body = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).json()
    assert body["subject"] == ticket["subject"]
    assert len(await audits(client, ticket["id"])) == 1


async def test_cascades_deeper_than_the_limit_are_refused(client, database_url):
    first, second = await make_ticket(client), await make_ticket(client)

    async def ping_pong(session: AsyncSession, change: TicketChange) -> None:
        other_id = second["id"] if change.ticket.id == first["id"] else first["id"]
        other = await session.get(Ticket, other_id)
        assert other is not None
        changes = ChangeSet()
        changes.set(other, "subject", f"{other.subject}!")
        await change.cascade(session, other, changes, change.actor)

    with pytest.raises(ChangeDidNotSettle, match="levels deep"):
        await _run_with(
            database_url, TicketPipeline([StagedReaction(Stage.automation, ping_pong)]), first["id"]
        )
    assert len(await audits(client, second["id"])) == 1


def test_one_reaction_per_stage():
    async def nothing(session: AsyncSession, change: TicketChange) -> None:
        return None

    with pytest.raises(ValueError, match="one reaction per stage"):
        TicketPipeline([StagedReaction(Stage.sla, nothing), StagedReaction(Stage.sla, nothing)])


async def test_the_service_writes_system_notes_without_an_author(client, database_url):
    customer, customer_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, requester_id=customer["id"])
    engine, sessionmaker = connect(database_url, pool_size=1)
    try:
        async with sessionmaker() as session:
            row = await session.get(Ticket, ticket["id"], with_for_update=True)
            assert row is not None
            changes = ChangeSet()
            note = NewComment(body="Escalated: no reply in 4 hours.", public=False)
            await add_comment(
                session, row, note, actor=AUTOMATION, changes=changes, now=MONDAY_10_ROME
            )
            await commit_change(session, row, changes, actor=AUTOMATION, now=MONDAY_10_ROME)
            await session.commit()
            # A rule's public reply speaks in an admin's words; the service's own never.
            reply = NewComment(body="Hello from nobody", public=True)
            with pytest.raises(RuntimeError, match="public reply needs an author"):
                await add_comment(
                    session, row, reply, actor=Actor.system(Via.sla), changes=ChangeSet(),
                    now=MONDAY_10_ROME,
                )  # fmt: skip
            await session.rollback()
    finally:
        await engine.dispose()
    staff_view = await client.get(f"/v1/tickets/{ticket['id']}/comments", headers=ADMIN)
    (system,) = [c for c in staff_view.json()["data"] if c["body"].startswith("Escalated")]
    assert (system["author_id"], system["public"], system["via"]) == (None, False, "automation")
    customer_view = await client.get(
        f"/v1/tickets/{ticket['id']}/comments", headers=customer_headers
    )
    assert "Escalated" not in customer_view.text

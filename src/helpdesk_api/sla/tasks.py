"""The worker's SLA job: announce warnings and breaches when they fall due.

Due metrics are found through the partial index on ``ticket_sla_metrics.due_at`` and claimed
with ``FOR UPDATE SKIP LOCKED``, so several workers share the work and a ticket change in
flight (which locks its metrics) is never waited for. ``warned`` and ``breach_notified`` are
set in the transaction that records the event: each is announced once per metric cycle.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.core.actor import Actor
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.metrics import SLA_BREACHES
from helpdesk_api.models import Ticket, TicketSlaMetric, Via
from helpdesk_api.sla import clock
from helpdesk_api.sla.rows import clock_of, store
from helpdesk_api.tickets import ChangeSet, commit_change

BATCH = 100
SLA_ACTOR = Actor.system(Via.sla)
WARNING = "warning"  # the audit's word for a warned metric (its status stays active)


def _event_data(row: TicketSlaMetric) -> dict[str, Any]:
    return {
        "ticket_id": row.ticket_id,
        "metric": row.metric,
        "cycle": row.cycle,
        "policy_id": row.policy_id,
        "target_minutes": row.target_minutes,
        "business_hours": row.business_hours,
        "started_at": row.started_at.isoformat(),
        "warning_at": row.warning_at.isoformat() if row.warning_at else None,
        "breach_at": row.breach_at.isoformat() if row.breach_at else None,
    }


async def _announce(
    session: AsyncSession, row: TicketSlaMetric, ticket: Ticket, now: datetime
) -> None:
    state = clock_of(row)
    if state.breach_at is not None and state.breach_at <= now and not state.breach_notified:
        # A warning not sent before the breach is no longer news: only the breach is told.
        store(row, clock.record_breach(state))
        await record_event(
            session, EventType.sla_breached, actor_id=None, via=Via.sla, ticket_id=row.ticket_id,
            data=_event_data(row),
        )  # fmt: skip
        SLA_BREACHES.labels(row.metric).inc()
        changes = ChangeSet()
        changes.note(f"sla.{row.metric}", clock.ACTIVE, clock.BREACHED)
        await commit_change(session, ticket, changes, actor=SLA_ACTOR, now=now)
    elif (
        state.status == clock.ACTIVE
        and not state.warned
        and state.warning_at is not None
        and state.warning_at <= now
    ):
        store(row, clock.record_warning(state))
        await record_event(
            session, EventType.sla_warning, actor_id=None, via=Via.sla, ticket_id=row.ticket_id,
            data=_event_data(row),
        )  # fmt: skip
        # Through the pipeline like the breach, so triggers can remind or escalate on it.
        changes = ChangeSet()
        changes.note(f"sla.{row.metric}", clock.ACTIVE, WARNING)
        await commit_change(session, ticket, changes, actor=SLA_ACTOR, now=now)
    else:
        store(row, state)  # nothing due after all: just correct due_at


async def process_due_sla(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime
) -> float | None:
    """Announce what is due at ``now``; return the seconds until the next deadline, if any."""
    async with sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(TicketSlaMetric)
                .where(TicketSlaMetric.due_at.is_not(None), TicketSlaMetric.due_at <= now)
                .order_by(TicketSlaMetric.due_at)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        if rows:
            # Triggers may change the ticket on a warning or a breach, so it is locked like any
            # writer's. A ticket locked by a change in flight is skipped (that change locks its
            # metrics after the ticket: waiting here could deadlock); its metrics stay due.
            tickets = {
                t.id: t
                for t in await session.scalars(
                    select(Ticket)
                    .where(Ticket.id.in_({r.ticket_id for r in rows}))
                    .with_for_update(skip_locked=True)
                )
            }
            for row in rows:
                if row.ticket_id in tickets:
                    await _announce(session, row, tickets[row.ticket_id], now)
            await session.commit()
        if len(rows) == BATCH:
            return 0.0  # more may be due right now
        next_due = await session.scalar(
            select(func.min(TicketSlaMetric.due_at)).where(TicketSlaMetric.due_at.is_not(None))
        )
    if next_due is None:
        return None
    return max(0.0, (next_due - now).total_seconds())

"""A ticket's SLA as staff read it: the policy, why it applies, and each metric's clock."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.models import BusinessCalendar, SlaPolicy, TicketSla, TicketSlaMetric
from helpdesk_api.sla.rows import clock_of
from helpdesk_api.sla.schemas import (
    AppliedPolicy,
    CalendarRef,
    MatchedCondition,
    MetricRead,
    TicketSlaRead,
)
from helpdesk_api.tickets import get_visible_ticket

_METRIC_ORDER = {"first_reply": 0, "next_reply": 1, "periodic_update": 2, "resolution": 3}


def _metric_read(row: TicketSlaMetric, now: datetime) -> MetricRead:
    state = clock_of(row)
    status = state.status_at(now)
    return MetricRead(
        metric=row.metric,
        cycle=row.cycle,
        status=status,
        policy_id=row.policy_id,
        target_minutes=row.target_minutes,
        business_hours=row.business_hours,
        pause_on=row.pause_on,
        started_at=row.started_at,
        breach_at=row.breach_at,
        warning_at=row.warning_at,
        paused_at=row.paused_at,
        paused_minutes=round(row.paused_total / timedelta(minutes=1), 3),
        achieved_at=row.achieved_at,
        # Reported as soon as it is true, even before the worker has announced it.
        breached_at=row.breach_at if status == "breached" else None,
    )


async def ticket_sla(
    session: AsyncSession, principal: Principal, ticket_id: int, *, now: datetime
) -> TicketSlaRead:
    """The latest cycle of each metric (earlier cycles were fulfilled before it started)."""
    await get_visible_ticket(session, principal, ticket_id)
    policy = None
    applied = (
        await session.execute(
            select(TicketSla, SlaPolicy, BusinessCalendar)
            .join(SlaPolicy, SlaPolicy.id == TicketSla.policy_id)
            .join(BusinessCalendar, BusinessCalendar.id == SlaPolicy.calendar_id)
            .where(TicketSla.ticket_id == ticket_id)
        )
    ).one_or_none()
    if applied is not None:
        state, row, calendar = applied
        policy = AppliedPolicy(
            id=row.id,
            name=row.name,
            position=row.position,
            is_active=row.is_active,
            matched_conditions=[MatchedCondition.model_validate(m) for m in state.matched],
            applied_at=state.applied_at,
            calendar=CalendarRef(
                id=calendar.id,
                name=calendar.name,
                time_zone=calendar.time_zone,
                always_open=calendar.always_open,
            ),
        )
    rows = await session.scalars(
        select(TicketSlaMetric)
        .where(TicketSlaMetric.ticket_id == ticket_id)
        .order_by(TicketSlaMetric.cycle)
    )
    latest = {row.metric: row for row in rows}
    metrics = [latest[m] for m in sorted(latest, key=_METRIC_ORDER.__getitem__)]
    return TicketSlaRead(
        ticket_id=ticket_id, policy=policy, metrics=[_metric_read(m, now) for m in metrics]
    )

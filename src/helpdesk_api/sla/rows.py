"""Between stored metric rows and the pure clock rules."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.settings import get_settings
from helpdesk_api.models import BusinessCalendar, SlaPolicy, TicketSlaMetric
from helpdesk_api.sla import business_time
from helpdesk_api.sla.calendars import to_business_calendar
from helpdesk_api.sla.clock import ALWAYS_OPEN, Clock, Target


def clock_of(row: TicketSlaMetric) -> Clock:
    return Clock(
        status=row.status,
        started_at=row.started_at,
        paused_at=row.paused_at,
        paused_total=row.paused_total,
        breach_at=row.breach_at,
        warning_at=row.warning_at,
        achieved_at=row.achieved_at,
        breached_at=row.breached_at,
        warned=row.warned,
        breach_notified=row.breach_notified,
    )


def store(row: TicketSlaMetric, clock: Clock) -> None:
    row.status = clock.status
    row.started_at = clock.started_at
    row.paused_at = clock.paused_at
    row.paused_total = clock.paused_total
    row.breach_at = clock.breach_at
    row.warning_at = clock.warning_at
    row.achieved_at = clock.achieved_at
    row.breached_at = clock.breached_at
    row.warned = clock.warned
    row.breach_notified = clock.breach_notified
    row.due_at = clock.due_at


def make_target(
    minutes: int,
    business_hours: bool,
    pause_on: Iterable[str],
    calendar: business_time.BusinessCalendar,
) -> Target:
    return Target(
        minutes=minutes,
        calendar=calendar if business_hours else ALWAYS_OPEN,
        pause_on=frozenset(pause_on),
        warning_fraction=get_settings().sla_warning_fraction,
    )


def target_of(row: TicketSlaMetric, calendars: dict[int, business_time.BusinessCalendar]) -> Target:
    return make_target(
        row.target_minutes, row.business_hours, row.pause_on, calendars[row.policy_id]
    )


async def policy_calendars(
    session: AsyncSession, policy_ids: Iterable[int]
) -> dict[int, business_time.BusinessCalendar]:
    """Each policy's calendar, ready for the arithmetic."""
    wanted = set(policy_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(SlaPolicy.id, BusinessCalendar)
        .join(BusinessCalendar, BusinessCalendar.id == SlaPolicy.calendar_id)
        .where(SlaPolicy.id.in_(wanted))
    )
    return {policy_id: to_business_calendar(calendar) for policy_id, calendar in rows.all()}

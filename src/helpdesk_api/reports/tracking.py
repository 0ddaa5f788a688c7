"""Keeping ``ticket_metrics`` in the transaction of every ticket change (a pipeline reaction,
``Stage.metrics``), and reading a ticket's SLA calendar for the business-time figures."""

from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.models import BusinessCalendar as StoredCalendar
from helpdesk_api.reports import tracking_sql as sql
from helpdesk_api.reports.history import compute_ticket_metrics
from helpdesk_api.reports.timeline import (
    Assigned,
    Clock,
    Figures,
    GroupMove,
    Reply,
    StatusMove,
    Step,
    apply,
    start,
)
from helpdesk_api.sla.business_time import BusinessCalendar
from helpdesk_api.sla.calendars import to_business_calendar
from helpdesk_api.tickets import TicketChange


def steps_of(change: TicketChange) -> list[Step]:
    """What this round did that the metrics count, in the order the writer did it: a reply
    before the status it moved the ticket to."""
    now, steps = change.now, list[Step]()
    public = change.changes.comment_id is not None and change.changes.comment_public
    if public and (change.actor.is_agent or change.actor.is_customer):
        steps.append(Reply(now, by_agent=change.actor.is_agent))
    for entry in change.changes.changes:
        name = entry["field"]
        if name == "status":
            steps.append(StatusMove(now, entry["to"]["category"]))
        elif name == "assignee_id":
            steps.append(Assigned(now, entry["to"]))
        elif name == "group_id":
            steps.append(GroupMove(now, entry["to"]))
    return steps


def _calendar(row: Any) -> tuple[BusinessCalendar | None, int | None]:
    if row.calendar_row_id is None:
        return None, None
    stored = StoredCalendar(
        time_zone=row.time_zone, always_open=row.always_open, hours=row.hours,
        holidays=row.holidays,
    )  # fmt: skip
    return to_business_calendar(stored), row.calendar_row_id


async def on_ticket_change(session: AsyncSession, change: TicketChange) -> None:
    ticket = change.ticket
    if change.created:
        # The creating comment is the request, not a reply; what it was created with is
        # where the figures start. The calendar is read at the first change that measures.
        figures = start(ticket.created_at, ticket.status_category, ticket.assignee_id)
        values = asdict(figures) | {"ticket_id": ticket.id, "updated_at": change.now}
        await session.execute(sql.INSERT, values)
        return
    steps = steps_of(change)
    if not steps:
        return
    row = (await session.execute(sql.SELECT, {"ticket_id": ticket.id})).one_or_none()
    if row is None:  # a ticket older than the metrics (or written around the pipeline)
        await compute_ticket_metrics(session, ticket, change.now)
        return
    figures = Figures(**{name: getattr(row, name) for name in sql.COLUMNS})
    calendar, calendar_id = _calendar(row)
    clock = Clock(ticket.created_at, calendar, calendar_id)
    for step in steps:
        apply(figures, step, clock)
    values = asdict(figures) | {"ticket_id": ticket.id, "updated_at": change.now}
    await session.execute(sql.UPDATE, values)

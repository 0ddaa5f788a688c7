"""Keeping ``ticket_metrics`` in the transaction of every ticket change (a pipeline reaction,
``Stage.metrics``), and reading a ticket's SLA calendar for the business-time figures."""

from dataclasses import asdict, fields
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.models import TicketMetrics
from helpdesk_api.reports.history import compute_ticket_metrics, ticket_clock
from helpdesk_api.reports.timeline import (
    Assigned,
    Figures,
    GroupMove,
    Reply,
    StatusMove,
    Step,
    apply,
    start,
)
from helpdesk_api.tickets import TicketChange

_FIELDS = tuple(f.name for f in fields(Figures))


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


def figures_of(row: TicketMetrics) -> Figures:
    return Figures(**{name: getattr(row, name) for name in _FIELDS})


def store(row: TicketMetrics, figures: Figures, now: datetime) -> None:
    for name, value in asdict(figures).items():
        setattr(row, name, value)
    row.updated_at = now


async def on_ticket_change(session: AsyncSession, change: TicketChange) -> None:
    ticket = change.ticket
    if change.created:
        # The creating comment is the request, not a reply; what it was created with is
        # where the figures start.
        figures = start(ticket.created_at, ticket.status_category, ticket.assignee_id)
        clock = await ticket_clock(session, ticket)
        figures.calendar_id = clock.calendar_id
        created = TicketMetrics(ticket_id=ticket.id)
        store(created, figures, change.now)
        session.add(created)
        await session.flush()
        return
    steps = steps_of(change)
    if not steps:
        return
    row = await session.get(TicketMetrics, ticket.id)
    if row is None:  # a ticket older than the metrics (or written around the pipeline)
        await compute_ticket_metrics(session, ticket, change.now)
        return
    figures = figures_of(row)
    clock = await ticket_clock(session, ticket)
    for step in steps:
        apply(figures, step, clock)
    store(row, figures, change.now)
    await session.flush()

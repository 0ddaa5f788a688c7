"""A ticket's metrics computed once from what is stored about it: for tickets imported with
their history, and for tickets older than ``ticket_metrics``.

The steps come from the ticket's audits (status, assignee and group changes, each at the
audit's time) and its public comments (each at its own time, an agent's or admin's being a
reply); the first comment is the request and the first audit the creation.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.models import (
    BusinessCalendar,
    SlaPolicy,
    Ticket,
    TicketAudit,
    TicketComment,
    TicketMetrics,
    TicketSla,
    User,
)
from helpdesk_api.reports.timeline import (
    Assigned,
    Clock,
    Figures,
    GroupMove,
    Reply,
    StatusMove,
    Step,
    fold,
    start,
)
from helpdesk_api.sla.calendars import to_business_calendar

REPLYING_ROLES = ("admin", "agent")


async def ticket_clock(session: AsyncSession, ticket: Ticket) -> Clock:
    """The calendar of the SLA policy applied to the ticket now (set by the SLA stage)."""
    row = (
        await session.execute(
            select(BusinessCalendar)
            .join(SlaPolicy, SlaPolicy.calendar_id == BusinessCalendar.id)
            .join(TicketSla, TicketSla.policy_id == SlaPolicy.id)
            .where(TicketSla.ticket_id == ticket.id)
        )
    ).scalar_one_or_none()
    if row is None:
        return Clock(ticket.created_at, None, None)
    return Clock(ticket.created_at, to_business_calendar(row), row.id)


def _audit_steps(at: datetime, changes: list[dict[str, object]]) -> list[Step]:
    steps: list[Step] = []
    for entry in changes:
        name, to = entry["field"], entry["to"]
        if name == "status" and isinstance(to, dict):
            steps.append(StatusMove(at, str(to["category"])))
        elif name == "assignee_id":
            steps.append(Assigned(at, to if isinstance(to, int) else None))
        elif name == "group_id":
            steps.append(GroupMove(at, to if isinstance(to, int) else None))
    return steps


def _initial(changes: list[dict[str, object]]) -> tuple[str, int | None]:
    category, assignee = "new", None
    for entry in changes:
        to = entry["to"]
        if entry["field"] == "status" and isinstance(to, dict):
            category = str(to["category"])
        elif entry["field"] == "assignee_id":
            assignee = to if isinstance(to, int) else None
    return category, assignee


async def figures_from_history(session: AsyncSession, ticket: Ticket) -> Figures:
    audits = (
        await session.execute(
            select(TicketAudit.created_at, TicketAudit.changes)
            .where(TicketAudit.ticket_id == ticket.id)
            .order_by(TicketAudit.id)
        )
    ).all()
    comments = (
        await session.execute(
            select(TicketComment.id, TicketComment.created_at, User.role)
            .join(User, User.id == TicketComment.author_id)
            .where(TicketComment.ticket_id == ticket.id, TicketComment.is_public.is_(True))
            .order_by(TicketComment.id)
        )
    ).all()
    first_comment = await session.scalar(
        select(TicketComment.id)
        .where(TicketComment.ticket_id == ticket.id)
        .order_by(TicketComment.id)
        .limit(1)
    )
    first = audits[0].changes if audits else []
    if any(c["field"] == "status" and c["from"] is None for c in first):
        category, assignee = _initial(first)
        later = audits[1:]
    elif audits:  # no creation audit: every audit is a later change
        category, assignee, later = "new", None, audits
    else:
        category, assignee, later = ticket.status_category, ticket.assignee_id, []
    timed: list[tuple[datetime, int, Step]] = []
    for audit in later:
        timed.extend(
            (audit.created_at, 1, s) for s in _audit_steps(audit.created_at, audit.changes)
        )
    for comment_id, created_at, role in comments:
        if comment_id != first_comment and role in (*REPLYING_ROLES, "customer"):
            timed.append((created_at, 0, Reply(created_at, by_agent=role in REPLYING_ROLES)))
    # Stable: at the same instant a reply comes before the status it moved the ticket to.
    timed.sort(key=lambda t: (t[0], t[1]))
    clock = await ticket_clock(session, ticket)
    figures = start(ticket.created_at, category, assignee)
    figures.calendar_id = clock.calendar_id
    return fold(figures, [step for _, _, step in timed], clock)


async def compute_ticket_metrics(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """(Re)compute the ticket's ``ticket_metrics`` row once from its stored history: what an
    import calls after writing a ticket with its comments and audits. Never commits."""
    figures = await figures_from_history(session, ticket)
    row = await session.get(TicketMetrics, ticket.id)
    if row is None:
        row = TicketMetrics(ticket_id=ticket.id)
        session.add(row)
    for name, value in vars(figures).items():
        setattr(row, name, value)
    row.updated_at = now
    await session.flush()

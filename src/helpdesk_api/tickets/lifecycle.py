"""How a ticket's status moves: by explicit change, and by who replies."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.errors import Conflict
from helpdesk_api.models import PriorityRank, StatusCategory, Ticket, TicketStatus
from helpdesk_api.statuses.service import default_status
from helpdesk_api.tickets.changes import ChangeSet

REOPENED_BY_CUSTOMER = frozenset({StatusCategory.pending, StatusCategory.solved})


def ensure_not_closed(ticket: Ticket) -> None:
    if ticket.status_category == StatusCategory.closed:
        raise Conflict(
            f"Ticket {ticket.id} is closed and can no longer change; open a follow-up ticket."
        )


def set_status(ticket: Ticket, status: TicketStatus, changes: ChangeSet, now: datetime) -> None:
    if ticket.status_id == status.id:
        return
    changes.note(
        "status",
        {"id": ticket.status_id, "category": ticket.status_category},
        {"id": status.id, "category": status.category},
    )
    leaving_solved = ticket.status_category == StatusCategory.solved
    ticket.status_id = status.id
    ticket.status_category = status.category
    ticket.status_changed_at = now
    if status.category == StatusCategory.solved:
        ticket.solved_at = now
    elif leaving_solved and status.category != StatusCategory.closed:
        ticket.solved_at = None


def set_priority(ticket: Ticket, priority: str, changes: ChangeSet) -> None:
    if changes.set(ticket, "priority", priority):
        ticket.priority_rank = PriorityRank[priority].value


async def after_public_comment(
    session: AsyncSession,
    ticket: Ticket,
    *,
    by_agent: bool,
    by_customer: bool,
    changes: ChangeSet,
    now: datetime,
) -> None:
    """An agent's public reply opens a new ticket; a customer's reply reopens a waiting one."""
    category = StatusCategory(ticket.status_category)
    if by_agent:
        if ticket.first_agent_reply_at is None:
            changes.set(ticket, "first_agent_reply_at", now)
        if category == StatusCategory.new:
            set_status(ticket, await default_status(session, StatusCategory.open), changes, now)
    elif by_customer and category in REOPENED_BY_CUSTOMER:
        set_status(ticket, await default_status(session, StatusCategory.open), changes, now)

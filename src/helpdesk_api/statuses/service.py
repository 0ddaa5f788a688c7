"""Ticket statuses and the priority matrix: what the ticket lifecycle asks of them."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.models import Level, Priority, PriorityMatrixCell, StatusCategory, TicketStatus


async def default_status(session: AsyncSession, category: StatusCategory) -> TicketStatus:
    status = await session.scalar(
        select(TicketStatus).where(TicketStatus.category == category, TicketStatus.is_default)
    )
    if status is None:  # the migration seeds one per category and the service keeps one
        raise RuntimeError(f"no default status for category {category}")
    return status


async def get_usable_status(
    session: AsyncSession, status_id: int, *, loc: tuple[str | int, ...] = ("body", "status_id")
) -> TicketStatus:
    """An active status a ticket may move to; unknown or deactivated ones are a 422."""
    status = await session.get(TicketStatus, status_id)
    if status is None or not status.is_active:
        raise InvalidInput(f"Ticket status {status_id} does not exist or is inactive.", loc=loc)
    return status


async def priority_from_matrix(session: AsyncSession, impact: Level, urgency: Level) -> Priority:
    cell = await session.get(PriorityMatrixCell, (impact.value, urgency.value))
    return Priority(cell.priority) if cell else Priority.normal

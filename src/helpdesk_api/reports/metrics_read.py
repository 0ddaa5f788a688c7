"""Reading one ticket's metrics: staff who may see the ticket."""

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import NotFound
from helpdesk_api.models import TicketMetrics
from helpdesk_api.reports.metrics_schemas import Duration, TicketMetricsRead
from helpdesk_api.tickets import get_visible_ticket


async def ticket_metrics(
    session: AsyncSession, principal: Principal, ticket_id: int
) -> TicketMetricsRead:
    await get_visible_ticket(session, principal, ticket_id)
    row = await session.get(TicketMetrics, ticket_id)
    if row is None:  # every ticket has one since migration 0019; a 404 rather than a 500
        raise NotFound(f"Ticket {ticket_id} has no metrics.")
    return to_read(row)


def to_read(row: TicketMetrics) -> TicketMetricsRead:
    return TicketMetricsRead(
        ticket_id=row.ticket_id,
        calendar_id=row.calendar_id,
        first_reply_time=Duration(
            calendar_minutes=row.first_reply_minutes,
            business_minutes=row.first_reply_business_minutes,
        ),
        full_resolution_time=Duration(
            calendar_minutes=row.full_resolution_minutes,
            business_minutes=row.full_resolution_business_minutes,
        ),
        requester_wait_time=Duration(
            calendar_minutes=row.requester_wait_minutes,
            business_minutes=row.requester_wait_business_minutes,
        ),
        agent_wait_time=Duration(
            calendar_minutes=row.agent_wait_minutes,
            business_minutes=row.agent_wait_business_minutes,
        ),
        on_hold_time=Duration(
            calendar_minutes=row.on_hold_minutes, business_minutes=row.on_hold_business_minutes
        ),
        replies=row.replies,
        replies_at_solve=row.replies_at_solve,
        one_touch=row.replies_at_solve == 1 and row.solved_at is not None,
        reopens=row.reopens,
        assignee_changes=row.assignee_changes,
        group_changes=row.group_changes,
        first_assigned_at=row.first_assigned_at,
        first_reply_at=row.first_reply_at,
        solved_at=row.solved_at,
        closed_at=row.closed_at,
        updated_at=row.updated_at,
    )

from fastapi import APIRouter

from helpdesk_api.core.auth import Staff
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.params import ResourceId
from helpdesk_api.reports import metrics_read
from helpdesk_api.reports.metrics_schemas import TicketMetricsRead

router = APIRouter(prefix="/v1", tags=["reports"], route_class=TransactionalRoute)


@router.get("/tickets/{ticket_id}/metrics")
async def get_ticket_metrics(
    ticket_id: ResourceId, session: DB, principal: Staff
) -> TicketMetricsRead:
    """The ticket's metrics, kept as it changes: reply, resolution and wait times in calendar
    and business minutes, replies, reopens, reassignments. Staff who may see the ticket."""
    return await metrics_read.ticket_metrics(session, principal, ticket_id)

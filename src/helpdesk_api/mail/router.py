from fastapi import APIRouter

from helpdesk_api.core.auth import Staff
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.mail import deliveries
from helpdesk_api.mail.schemas import EmailDeliveryPage

router = APIRouter(prefix="/v1", tags=["email"], route_class=TransactionalRoute)


@router.get("/tickets/{ticket_id}/deliveries")
async def list_ticket_deliveries(
    ticket_id: ResourceId, session: DB, principal: Staff, limit: Limit = 50, cursor: Cursor = None
) -> EmailDeliveryPage:
    """The e-mail sent about the ticket, newest first: to whom, what, and how sending it
    went (pending, sending, sent, failed; attempts and the last error). Staff only."""
    data, next_cursor = await deliveries.list_ticket_deliveries(
        session, principal, ticket_id, limit=limit, cursor=cursor
    )
    return EmailDeliveryPage(data=data, next_cursor=next_cursor)

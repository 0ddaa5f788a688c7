from fastapi import APIRouter, status

from helpdesk_api.core.auth import Agent, Staff
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.models import CcKind
from helpdesk_api.tickets import ccs
from helpdesk_api.tickets.schemas import CcPage, CcRead

router = APIRouter(prefix="/v1", tags=["ccs"], route_class=TransactionalRoute)


@router.get("/tickets/{ticket_id}/ccs")
async def list_ccs(
    ticket_id: ResourceId, session: DB, principal: Staff, limit: Limit = 50, cursor: Cursor = None
) -> CcPage:
    """Customers copied on the ticket (`cc`: they see its public side as the requester does)
    and staff following it (`follower`: they get its events)."""
    rows, next_cursor = await ccs.list_ccs(
        session, principal, ticket_id, limit=limit, cursor=cursor
    )
    return CcPage(
        data=[
            CcRead(
                user_id=r.user_id,
                kind=CcKind(r.kind),
                created_by=r.created_by,
                created_at=r.created_at,
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )


@router.put("/tickets/{ticket_id}/ccs/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def add_cc(
    ticket_id: ResourceId, user_id: ResourceId, session: DB, principal: Agent, now: Now
) -> None:
    """Copy a customer on the ticket, or make a staff member follow it (the kind follows the
    user's role). Adding someone already on it is a no-op; an unknown or deactivated user, or
    the requester, is 422 at `["path", "user_id"]`."""
    await ccs.add_cc(session, principal, ticket_id, user_id, now=now)


@router.delete("/tickets/{ticket_id}/ccs/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_cc(
    ticket_id: ResourceId, user_id: ResourceId, session: DB, principal: Agent, now: Now
) -> None:
    """404 if the user is not copied on the ticket."""
    await ccs.remove_cc(session, principal, ticket_id, user_id, now=now)

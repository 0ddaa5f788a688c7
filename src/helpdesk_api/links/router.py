from fastapi import APIRouter, Response, status

from helpdesk_api.core.auth import Agent, Staff
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.links import replies
from helpdesk_api.links import service as links
from helpdesk_api.links.schemas import LinkCreate, LinkPage, LinkRead, LinkReply, LinkReplyResult
from helpdesk_api.tickets import present_comments

router = APIRouter(prefix="/v1", tags=["links"], route_class=TransactionalRoute)


@router.get("/tickets/{ticket_id}/links")
async def list_links(
    ticket_id: ResourceId, session: DB, principal: Staff, limit: Limit = 50, cursor: Cursor = None
) -> LinkPage:
    """The ticket's links in both directions, oldest first; links to tickets the caller may
    not see are left out."""
    data, next_cursor = await links.list_links(
        session, principal, ticket_id, limit=limit, cursor=cursor
    )
    return LinkPage(data=data, next_cursor=next_cursor)


@router.post(
    "/tickets/{ticket_id}/links", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent]
)
async def create_link(
    ticket_id: ResourceId,
    data: LinkCreate,
    session: DB,
    principal: Agent,
    response: Response,
    now: Now,
) -> LinkRead:
    """Link another ticket: `related`, `duplicate` (this ticket duplicates the other) or
    `incident` (one ticket is of type `problem`, the other of type `incident`; an incident
    belongs to one problem). Two tickets are joined by at most one link (409)."""
    link = await links.create_link(session, principal, ticket_id, data, now=now)
    response.headers["Location"] = f"/v1/tickets/{ticket_id}/links/{link.id}"
    return link


# `:int` keeps `/links/reply` from reading as a link id: other methods on it are then 405.
@router.delete("/tickets/{ticket_id}/links/{link_id:int}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_link(
    ticket_id: ResourceId, link_id: ResourceId, session: DB, principal: Agent, now: Now
) -> None:
    await links.delete_link(session, principal, ticket_id, link_id, now=now)


@router.post(
    "/tickets/{ticket_id}/links/reply",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Idempotent],
)
async def reply_to_linked_tickets(
    ticket_id: ResourceId, data: LinkReply, session: DB, principal: Agent, now: Now
) -> LinkReplyResult:
    """Answer this ticket and every ticket linked to it with the same comment (optionally
    moving each to `status_id`): each a normal comment by the caller, each audited
    (`via: links`). Closed tickets, and linked tickets the caller may not see, are skipped."""
    comments, skipped = await replies.reply_to_all(session, principal, ticket_id, data, now=now)
    return LinkReplyResult(
        data=await present_comments(session, comments), skipped_ticket_ids=skipped
    )

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from helpdesk_api.conversations.service import present_comments
from helpdesk_api.core.auth import Agent, Staff
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.merging import ccs, links, replies, service, similar
from helpdesk_api.merging.schemas import (
    CcPage,
    CcRead,
    LinkCreate,
    LinkPage,
    LinkRead,
    LinkReply,
    LinkReplyResult,
    MergeRequest,
    MergeResult,
    SimilarList,
    SimilarTicket,
)
from helpdesk_api.models import CcKind
from helpdesk_api.tickets.representation import present_to_staff

router = APIRouter(prefix="/v1", tags=["merging"], route_class=TransactionalRoute)


@router.post("/tickets/{ticket_id}/merge", dependencies=[Idempotent])
async def merge_tickets(
    ticket_id: ResourceId, data: MergeRequest, session: DB, principal: Agent, now: Now
) -> MergeResult:
    """Merge `source_ids` into this ticket, in one transaction: their conversations are copied
    here (authors, times, visibility and attachments kept), their requesters and CCs are
    copied on this ticket, tags are united, and each source is closed with a private note
    naming this ticket and records `merged_into_id`.

    Unknown or invisible sources are 422 at `["body", "source_ids", index]`; a source that is
    closed or already merged, or a closed target, is 409."""
    outcome = await service.merge_tickets(session, principal, ticket_id, data, now=now)
    target, *sources = await present_to_staff(session, [outcome.target, *outcome.sources])
    return MergeResult(
        target=target,
        sources=sources,
        copied_comment_ids=[c.id for c in outcome.copied],
    )


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
async def reply_to_linked(
    ticket_id: ResourceId, data: LinkReply, session: DB, principal: Agent, now: Now
) -> LinkReplyResult:
    """Answer this ticket and every ticket linked to it with the same comment (optionally
    moving each to `status_id`): each a normal comment by the caller, each audited
    (`via: links`). Closed tickets, and linked tickets the caller may not see, are skipped."""
    comments, skipped = await replies.reply_to_all(session, principal, ticket_id, data, now=now)
    return LinkReplyResult(
        data=await present_comments(session, comments), skipped_ticket_ids=skipped
    )


@router.get("/tickets/{ticket_id}/similar")
async def similar_tickets(
    ticket_id: ResourceId,
    session: DB,
    principal: Staff,
    limit: Annotated[int, Query(ge=1, le=50, description="How many, at most 50.")] = 10,
) -> SimilarList:
    """Open tickets that look like this one, best first: same requester, similar subject
    (trigram similarity) or similar words in the subject and comments."""
    found = await similar.similar_tickets(session, principal, ticket_id, limit=limit)
    tickets = await present_to_staff(session, [s.ticket for s in found])
    return SimilarList(
        data=[
            SimilarTicket(ticket=ticket, score=s.score, reasons=s.reasons)
            for ticket, s in zip(tickets, found, strict=True)
        ]
    )

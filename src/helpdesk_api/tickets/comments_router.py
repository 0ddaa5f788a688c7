from fastapi import APIRouter, Response, status

from helpdesk_api.access.visibility import visible_comments
from helpdesk_api.core.auth import Authenticated
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit, SortKey, paginate
from helpdesk_api.core.params import ResourceId
from helpdesk_api.models import TicketComment
from helpdesk_api.tickets import service
from helpdesk_api.tickets.comment_schemas import CommentCreate, CommentPage, CommentRead
from helpdesk_api.tickets.comments import present_comments

router = APIRouter(prefix="/v1", tags=["comments"], route_class=TransactionalRoute)


@router.get("/tickets/{ticket_id}/comments")
async def list_comments(
    ticket_id: ResourceId,
    session: DB,
    principal: Authenticated,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> CommentPage:
    """The conversation in time order, oldest first. Customers see public replies only."""
    await service.get_visible_ticket(session, principal, ticket_id)
    comments, next_cursor = await paginate(
        session,
        visible_comments(principal, ticket_id),
        # Time order, so comments merged in from other tickets sit where they happened.
        keys=[
            SortKey(TicketComment.created_at, lambda c: c.created_at),
            SortKey(TicketComment.id, lambda c: c.id),
        ],
        limit=limit,
        cursor=cursor,
        ordering="comments",
    )
    return CommentPage(
        data=await present_comments(session, comments, for_staff=principal.is_staff),
        next_cursor=next_cursor,
    )


@router.post(
    "/tickets/{ticket_id}/comments",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Idempotent],
)
async def create_comment(
    ticket_id: ResourceId,
    data: CommentCreate,
    session: DB,
    principal: Authenticated,
    response: Response,
    now: Now,
) -> CommentRead:
    """A public reply (`public: true`) or a private note (`public: false`)."""
    comment = await service.comment_on_ticket(session, principal, ticket_id, data, now=now)
    response.headers["Location"] = f"/v1/tickets/{ticket_id}/comments"
    return (await present_comments(session, [comment], for_staff=principal.is_staff))[0]

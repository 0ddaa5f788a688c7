from fastapi import APIRouter, Response, status

from helpdesk_api.conversations import service
from helpdesk_api.conversations.schemas import CommentCreate, CommentPage, CommentRead
from helpdesk_api.core.auth import Authenticated
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit, SortKey, paginate
from helpdesk_api.core.params import ResourceId
from helpdesk_api.models import TicketComment
from helpdesk_api.tickets.audit import write_audit
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.queries import visible_comments
from helpdesk_api.tickets.service import get_visible_ticket

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
    await get_visible_ticket(session, principal, ticket_id)
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
        data=await service.present_comments(session, comments), next_cursor=next_cursor
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
    ticket = await get_visible_ticket(session, principal, ticket_id, for_update=True)
    changes = ChangeSet()
    comment = await service.add_comment(session, principal, ticket, data, changes=changes, now=now)
    await session.flush()
    await write_audit(
        session,
        ticket,
        changes,
        actor_id=principal.user_id,
        actor_role=principal.role,
        via="api",
        now=now,
    )
    response.headers["Location"] = f"/v1/tickets/{ticket_id}/comments"
    return (await service.present_comments(session, [comment]))[0]

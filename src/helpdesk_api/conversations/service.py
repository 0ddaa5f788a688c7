"""Public replies and private notes. Never commits: the request path does.

Built on the ticket lifecycle (a reply moves the status); the tickets service calls
``add_comment`` for a ticket's first comment and for comments sent with an update.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.attachments.schemas import AttachmentRead
from helpdesk_api.attachments.service import attach_to_comment, attachments_for_comments
from helpdesk_api.conversations.sanitize import sanitize_html, text_of
from helpdesk_api.conversations.schemas import CommentCreate, CommentRead
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden, InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.models import Role, Ticket, TicketComment
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.lifecycle import after_public_comment, ensure_not_closed


def comment_visibility_for(principal: Principal, public: bool | None) -> bool:
    """Who may write what: customers only public replies, light agents only private notes."""
    if principal.role == Role.customer:
        if public is False:
            raise Forbidden("Customers cannot write private notes.")
        return True
    if principal.role == Role.light_agent:
        if public is True:
            raise Forbidden("Light agents write private notes only; an agent must reply.")
        return False
    return True if public is None else public


async def add_comment(
    session: AsyncSession,
    principal: Principal,
    ticket: Ticket,
    data: CommentCreate,
    *,
    changes: ChangeSet,
    now: datetime,
    via: str = "api",
    is_first_comment: bool = False,
) -> TicketComment:
    """Add a comment to a locked, visible ticket; status moves are recorded in ``changes``.

    A ticket's first comment is the request itself: the new ticket row already counts it,
    and it moves no status.
    """
    ensure_not_closed(ticket)
    public = comment_visibility_for(principal, data.public)
    html_body = sanitize_html(data.html_body) if data.html_body is not None else None
    body = data.body if data.body is not None else text_of(html_body or "")
    if not body.strip():
        raise InvalidInput("The comment has no text.", loc=("body", "comment", "body"))
    comment = TicketComment(
        ticket_id=ticket.id,
        author_id=principal.user_id,
        body=body,
        html_body=html_body,
        is_public=public,
        via=via,
        created_at=now,
    )
    session.add(comment)
    await session.flush()
    await attach_to_comment(
        session, principal, data.attachment_ids, ticket_id=ticket.id, comment_id=comment.id
    )
    if not is_first_comment:
        ticket.comment_count += 1
        ticket.updated_at = now
        if public:
            ticket.last_public_comment_at = now
    if public and not is_first_comment:
        await after_public_comment(
            session,
            ticket,
            by_agent=principal.is_agent,
            by_customer=not principal.is_staff,
            changes=changes,
            now=now,
        )
    changes.comment_id = comment.id
    changes.comment_public = public
    changes.propagate = data.propagate
    changes.note("comment", None, {"id": comment.id, "public": public})
    read = (await present_comments(session, [comment]))[0]
    await record_event(
        session,
        EventType.comment_created,
        actor_id=principal.user_id,
        via=via,
        ticket_id=ticket.id,
        is_public=public,
        data={"comment": read.model_dump(mode="json"), "public": public},
    )
    return comment


async def present_comments(
    session: AsyncSession, comments: Sequence[TicketComment]
) -> list[CommentRead]:
    attachments = await attachments_for_comments(session, [c.id for c in comments])
    return [
        CommentRead(
            id=c.id,
            ticket_id=c.ticket_id,
            author_id=c.author_id,
            body=c.body,
            html_body=c.html_body,
            public=c.is_public,
            via=c.via,
            created_at=c.created_at,
            attachments=[AttachmentRead.model_validate(a) for a in attachments[c.id]],
        )
        for c in comments
    ]

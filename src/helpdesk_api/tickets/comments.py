"""The one way a comment appears on a ticket: public replies, private notes, the notes a merge
leaves, replies copied from a problem to its incidents, and (later) mail and rules.

Never commits. ``add_comment`` records what it did in the caller's ``ChangeSet``; the caller
then hands that to ``pipeline.commit_change`` with the rest of its change.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.permissions import TicketAction, allows, relation_of, require
from helpdesk_api.attachments.schemas import AttachmentRead
from helpdesk_api.attachments.service import attach_to_comment, attachments_for_comments
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden, InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.html import sanitize_html, text_of
from helpdesk_api.models import (
    Attachment,
    CcKind,
    Role,
    Ticket,
    TicketCc,
    TicketComment,
    User,
    Via,
)
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.comment_schemas import CommentCreate, CommentRead
from helpdesk_api.tickets.lifecycle import after_public_comment, ensure_not_closed

BODY_LOC = ("body", "comment", "body")
RULE_WRITERS = (Via.trigger, Via.automation, Via.bot)  # admins wrote (or chose) the words


def comment_visibility_for(
    principal: Principal, ticket: Ticket | None, public: bool | None
) -> bool:
    """A public reply when asked, or by default when the caller may reply (customers and
    agents); a private note otherwise (light agents). ``ticket`` None: one being opened."""
    if public is None:
        public = allows(principal.role, relation_of(principal, ticket), TicketAction.reply)
    require(principal, ticket, TicketAction.reply if public else TicketAction.note)
    return public


@dataclass(frozen=True)
class NewComment:
    """What to write. ``html_body`` is sanitised here; ``body`` defaults to its text."""

    body: str | None
    public: bool
    html_body: str | None = None
    attachment_ids: Sequence[int] = ()  # the author's own uploads, not yet attached
    copy_of: TicketComment | None = None  # keep that comment's author, text and files
    via: Via | None = None  # where the comment came in, when not the actor's path
    propagate: bool = False
    uploaded_by: int | None = None  # whose uploads it attaches, when not its author's (a relay)
    relayed_by: int | None = None  # the relay's user, when written on a customer's behalf
    source: dict[str, Any] | None = None  # where it came from (an e-mail), shown to staff

    @classmethod
    def from_request(
        cls, principal: Principal, ticket: Ticket | None, data: CommentCreate
    ) -> "NewComment":
        return cls(
            body=data.body,
            html_body=data.html_body,
            public=comment_visibility_for(principal, ticket, data.public),
            attachment_ids=data.attachment_ids,
            propagate=data.propagate,
        )

    @classmethod
    def copied(cls, original: TicketComment) -> "NewComment":
        return cls(body=original.body, html_body=original.html_body, public=original.is_public,
                   copy_of=original)  # fmt: skip


async def relayed_author(
    session: AsyncSession,
    principal: Principal,
    data: CommentCreate,
    *,
    requester_id: int,
    ticket_id: int | None,
    loc: tuple[str, ...],
) -> tuple[Actor, NewComment]:
    """A relay writing for a ticket's customer: the comment, and the customer as its actor,
    so the message counts as the customer's (reopens a waiting ticket, moves SLA clocks as
    a customer's follow-up, never as an agent's reply)."""
    assert data.author_id is not None
    if not principal.acts_for_requesters:
        raise Forbidden(
            "Only a relay's token (acts_for_requesters) may write on behalf of a customer."
        )
    if data.public is False:
        raise InvalidInput(
            "A customer's message is public: leave public out or set it to true.",
            loc=(*loc, "public"),
        )
    role = await session.scalar(select(User.role).where(User.id == data.author_id))
    copied = data.author_id == requester_id or (
        ticket_id is not None
        and await session.scalar(
            select(TicketCc.user_id).where(
                TicketCc.ticket_id == ticket_id,
                TicketCc.user_id == data.author_id,
                TicketCc.kind == CcKind.cc,
            )
        )
        is not None
    )
    if role != Role.customer or not copied:
        raise InvalidInput(
            f"User {data.author_id} is neither the ticket's requester nor a customer copied on it.",
            loc=(*loc, "author_id"),
        )
    comment = NewComment(
        body=data.body,
        html_body=data.html_body,
        public=True,
        attachment_ids=data.attachment_ids,
        uploaded_by=principal.user_id,
        relayed_by=principal.user_id,
    )
    return Actor(user_id=data.author_id, role=Role.customer), comment


async def add_comment(
    session: AsyncSession,
    ticket: Ticket,
    comment: NewComment,
    *,
    actor: Actor,
    changes: ChangeSet,
    now: datetime,
    is_first_comment: bool = False,
) -> TicketComment:
    """Add a comment to a locked ticket; status moves are recorded in ``changes``.

    A ticket's first comment is the request itself: the new ticket row already counts it,
    and it moves no status. A public comment by an agent is a reply to the customer (first
    reply, status to open); by a customer, a follow-up (reopens a waiting ticket).
    """
    ensure_not_closed(ticket)
    row = await _insert(session, ticket, comment, actor=actor, now=now)
    if comment.copy_of is not None:
        await _copy_attachments(session, {comment.copy_of.id: row.id}, ticket.id)
    else:
        uploader = comment.uploaded_by or actor.user_id
        if uploader is not None:
            await attach_to_comment(
                session, uploader, list(comment.attachment_ids),
                ticket_id=ticket.id, comment_id=row.id,
            )  # fmt: skip
        elif comment.attachment_ids:
            raise RuntimeError("a system note attaches no uploads")
    if not is_first_comment:
        ticket.comment_count += 1
        ticket.updated_at = now
        if row.is_public:
            ticket.last_public_comment_at = now
            if actor.is_agent:
                ticket.last_agent_reply_at = now
            elif actor.user_id is not None and actor.user_id == ticket.requester_id:
                ticket.last_requester_reply_at = now
            await after_public_comment(
                session,
                ticket,
                by_agent=actor.is_agent,
                by_customer=actor.is_customer,
                changes=changes,
                now=now,
            )
    # A round with several comments (a rule's reply and note) is known by its public one:
    # that is what the notification stage mails and what rules on the comment see.
    if row.is_public or not changes.comment_public:
        changes.comment_id = row.id
        changes.comment_public = row.is_public
    changes.propagate = comment.propagate
    note: dict[str, object] = {"id": row.id, "public": row.is_public}
    if comment.relayed_by is not None:
        note["relayed_by"] = comment.relayed_by
    changes.note("comment", None, note)
    read = (await present_comments(session, [row]))[0]
    await record_event(
        session,
        EventType.comment_created,
        actor_id=actor.user_id,
        via=row.via,
        ticket_id=ticket.id,
        is_public=row.is_public,
        data={"comment": read.model_dump(mode="json"), "public": row.is_public},
    )
    return row


async def _insert(
    session: AsyncSession, ticket: Ticket, comment: NewComment, *, actor: Actor, now: datetime
) -> TicketComment:
    html_body = comment.html_body
    if html_body is not None and comment.copy_of is None:
        html_body = sanitize_html(html_body)
    body = comment.body if comment.body is not None else text_of(html_body or "")
    if not body.strip():
        raise InvalidInput("The comment has no text.", loc=BODY_LOC)
    author_id = comment.copy_of.author_id if comment.copy_of is not None else actor.user_id
    if author_id is None and comment.public and actor.via not in RULE_WRITERS:
        # The service speaks to customers only through a person's or a rule's reply (an
        # admin wrote the rule's wording); its own notes are private.
        raise RuntimeError("a public reply needs an author; the service writes system notes")
    row = TicketComment(
        ticket_id=ticket.id,
        author_id=author_id,
        body=body,
        html_body=html_body,
        is_public=comment.public,
        via=comment.via or actor.via,
        source=comment.source,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def copy_history(
    session: AsyncSession, comments: Sequence[TicketComment], ticket: Ticket, *, via: Via
) -> list[TicketComment]:
    """Copies of a conversation on ``ticket`` (a merge): author, time, visibility and files
    kept, in the given order, written at once. They are history, not new messages: they move
    no status and record no events; counters are the caller's."""
    if not comments:
        return []
    copies = [
        TicketComment(
            ticket_id=ticket.id,
            author_id=c.author_id,
            body=c.body,
            html_body=c.html_body,
            is_public=c.is_public,
            via=via,
            created_at=c.created_at,
        )
        for c in comments
    ]
    session.add_all(copies)
    await session.flush()
    await _copy_attachments(
        session, {o.id: c.id for o, c in zip(comments, copies, strict=True)}, ticket.id
    )
    return copies


async def _copy_attachments(session: AsyncSession, new_ids: dict[int, int], ticket_id: int) -> None:
    """The copies point at the same stored files, so the original ticket stays intact."""
    originals = await session.scalars(
        select(Attachment).where(Attachment.comment_id.in_(new_ids)).order_by(Attachment.id)
    )
    for a in originals:
        assert a.comment_id is not None
        session.add(
            Attachment(
                uploader_id=a.uploader_id,
                ticket_id=ticket_id,
                comment_id=new_ids[a.comment_id],
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                sha256=a.sha256,
                storage_key=a.storage_key,
                is_inline=a.is_inline,
                created_at=a.created_at,
            )
        )
    await session.flush()


async def present_comments(
    session: AsyncSession, comments: Sequence[TicketComment], *, for_staff: bool = False
) -> list[CommentRead]:
    """The comments as readers see them; ``source`` (an e-mail's headers, how it was
    threaded) is for staff only, and never in events, which customers may read."""
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
            source=c.source if for_staff else None,
        )
        for c in comments
    ]

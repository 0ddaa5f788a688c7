"""What an inbound message becomes: a new ticket, a comment on its thread, or nothing.

Raising anything quarantines the message (intake keeps it, failed, with the error); so every
rule here either decides or raises with a reason an admin can act on.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.attachments.service import store_received_file
from helpdesk_api.attachments.storage import LocalStorage, Storage
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.settings import Settings
from helpdesk_api.mail.headers import DAEMON_MAILBOXES
from helpdesk_api.mail.language import detect_language
from helpdesk_api.mail.parsing import Address, ParsedMail, parse_message
from helpdesk_api.mail.parts import CID_REFERENCE
from helpdesk_api.mail.quoting import visible_reply
from helpdesk_api.mail.senders import MailboxAddresses, customers_for, sender_user
from helpdesk_api.mail.threading import (
    Candidate,
    find_candidate,
    follow_merges,
    may_write_into,
)
from helpdesk_api.models import (
    Channel,
    EmailChannel,
    InboundEmail,
    InboundStatus,
    OutboundEmail,
    Role,
    StatusCategory,
    Ticket,
    User,
    Via,
)
from helpdesk_api.statuses.service import default_status
from helpdesk_api.tickets import (
    ChangeSet,
    NewComment,
    TicketDraft,
    add_ccs,
    add_comment,
    commit_change,
    open_ticket,
)

logger = logging.getLogger("helpdesk_api.mail")
NO_SUBJECT = "(no subject)"
# Our ticket token, taken out of a new ticket's subject (it pointed at someone else's ticket).
_SUBJECT_TOKEN = re.compile(r"\[#\d{1,18}\]\s*")
_SUBJECT_MAX = 500


class UnprocessableMail(Exception):
    """The message is kept, quarantined with this reason."""


@dataclass(frozen=True)
class Outcome:
    status: InboundStatus
    outcome: str
    ticket_id: int | None = None
    comment_id: int | None = None
    thread_match: str | None = None


async def process_inbound(
    session: AsyncSession,
    email: InboundEmail,
    *,
    raw: bytes,
    channel: EmailChannel | None,
    settings: Settings,
    now: datetime,
) -> None:
    parsed = parse_message(raw, max_attachment_bytes=settings.max_attachment_bytes)
    email.sender = parsed.sender.email if parsed.sender else None
    email.subject = parsed.subject[:_SUBJECT_MAX] or None
    result = await _decide(session, email, parsed, channel=channel, settings=settings, now=now)
    email.status = result.status
    email.outcome = result.outcome
    email.ticket_id = result.ticket_id
    email.comment_id = result.comment_id
    email.thread_match = result.thread_match
    email.error = None
    email.processed_at = now
    await session.flush()


async def _decide(
    session: AsyncSession,
    email: InboundEmail,
    parsed: ParsedMail,
    *,
    channel: EmailChannel | None,
    settings: Settings,
    now: datetime,
) -> Outcome:
    if parsed.sender is None:
        raise UnprocessableMail("The message names no sender (From, Sender or Return-Path).")
    ours = await MailboxAddresses.load(session)
    if ours.is_ours(parsed.sender.email) or await _is_our_message(session, parsed):
        return Outcome(InboundStatus.ignored, "own_mail")
    if _is_bounce(parsed):
        return Outcome(InboundStatus.ignored, "bounce")
    if channel is None:
        raise UnprocessableMail("The message reached no mailbox of ours.")
    context = _Context(email, parsed, channel, settings, now, ours)
    sender = await sender_user(session, parsed.sender, locale=context.language())
    candidate = await find_candidate(session, parsed, ours.domains)
    if candidate is not None:
        threaded = await _reply_to_thread(session, context, sender, candidate)
        if threaded is not None:
            return threaded
    limited = await _rate_limited_ticket(session, context, sender)
    if limited is not None:
        comment_id = await _comment(session, context, sender, limited, match=None)
        return Outcome(InboundStatus.processed, "rate_limited", limited.id, comment_id)
    return await _new_ticket(session, context, sender, refused=candidate)


@dataclass
class _Context:
    email: InboundEmail
    parsed: ParsedMail
    channel: EmailChannel
    settings: Settings
    now: datetime
    ours: "MailboxAddresses"
    _language: str | None = None
    _detected: bool = False

    def visible_text(self) -> str:
        return visible_reply(self.parsed.text, languages=self.settings.mail_languages)

    def language(self) -> str | None:
        if not self._detected:
            self._language = detect_language(
                self.visible_text(),
                candidates=self.settings.mail_languages,
                min_confidence=self.settings.mail_language_min_confidence,
            )
            self._detected = True
        return self._language

    def storage(self) -> Storage:
        return LocalStorage(self.settings.data_dir / "attachments")

    def source(self, match: str | None, **extra: Any) -> dict[str, Any]:
        parsed = self.parsed
        return {
            "email": {
                "inbound_email_id": self.email.id,
                "message_id": parsed.message_id,
                "from": _address(parsed.sender) if parsed.sender else None,
                "to": [_address(a) for a in parsed.to],
                "cc": [_address(a) for a in parsed.cc],
                "subject": parsed.subject,
                "mailbox_id": self.channel.id,
                "thread_match": match,
                "automatic": parsed.automatic,
                "dropped_attachments": list(parsed.dropped),
                **extra,
            }
        }


def _address(address: Address) -> dict[str, str | None]:
    return {"email": address.email, "name": address.name}


def _is_bounce(parsed: ParsedMail) -> bool:
    """A delivery report, or mail from a mail system itself: no person wrote it, and a reply
    to it would go nowhere (or loop)."""
    if parsed.sender is not None and parsed.sender.email.partition("@")[0] in DAEMON_MAILBOXES:
        return True
    return (parsed.automatic or "").startswith(("report", "null Return-Path"))


async def _is_our_message(session: AsyncSession, parsed: ParsedMail) -> bool:
    if parsed.message_id is None:
        return False
    found = await session.scalar(
        select(func.count())
        .select_from(OutboundEmail)
        .where(OutboundEmail.message_id == parsed.message_id)
    )
    return bool(found)


async def _reply_to_thread(
    session: AsyncSession, context: _Context, sender: User, candidate: Candidate
) -> Outcome | None:
    ticket = await follow_merges(session, candidate.ticket_id)
    if ticket is None or not await may_write_into(session, sender, ticket):
        return None
    if ticket.status_category == StatusCategory.closed:
        return await _new_ticket(session, context, sender, follow_up_of=ticket.id)
    comment_id = await _comment(session, context, sender, ticket, match=candidate.match.value)
    return Outcome(InboundStatus.processed, "comment", ticket.id, comment_id, candidate.match.value)


async def _rate_limited_ticket(
    session: AsyncSession, context: _Context, sender: User
) -> Ticket | None:
    """Past the hourly limit of new tickets, a sender's mail joins their latest open one."""
    limit = context.settings.mail_new_tickets_per_sender_per_hour
    if limit == 0 or context.email.sender is None:
        return None
    # Two messages of one sender at once would both count below the limit: take turns.
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"mail-sender:{context.email.sender}")))
    )
    opened = await session.scalar(
        select(func.count())
        .select_from(InboundEmail)
        .where(
            InboundEmail.sender == context.email.sender,
            InboundEmail.received_at > context.now - timedelta(hours=1),
            InboundEmail.outcome == "new_ticket",
        )
    )
    if (opened or 0) < limit:
        return None
    return await session.scalar(
        select(Ticket)
        .where(
            Ticket.requester_id == sender.id,
            Ticket.channel == Channel.email,
            Ticket.status_category != StatusCategory.closed,
            Ticket.merged_into_id.is_(None),
        )
        .order_by(Ticket.id.desc())
        .limit(1)
        .with_for_update()
    )


@dataclass(frozen=True)
class _Stored:
    ids: list[int]
    # Content-ID → attachment id, for the inline images the HTML shows.
    by_content_id: dict[str, int]

    def html_with_images(self, html: str | None) -> str | None:
        """Inline images point at their stored attachment instead of the mail's ``cid:``."""
        if html is None or not self.by_content_id:
            return html

        def resolve(match: re.Match[str]) -> str:
            found = self.by_content_id.get(unquote(match.group(1)).lower())
            return f"/v1/attachments/{found}/content" if found else match.group(0)

        return CID_REFERENCE.sub(resolve, html)


async def _store_attachments(session: AsyncSession, context: _Context, uploader: User) -> _Stored:
    storage = context.storage()
    stored = _Stored([], {})
    for part in context.parsed.attachments:
        attachment = await store_received_file(
            session,
            storage=storage,
            uploader_id=uploader.id,
            content=part.content,
            filename=part.filename,
            content_type=part.content_type,
            inline=part.inline,
        )
        stored.ids.append(attachment.id)
        if part.content_id:
            stored.by_content_id[part.content_id.lower()] = attachment.id
    return stored


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), via=Via.email)


def _public_for(user: User) -> bool:
    # A light agent's mail cannot answer the customer: it becomes a private note.
    return user.role != Role.light_agent


async def _comment(
    session: AsyncSession,
    context: _Context,
    sender: User,
    ticket: Ticket,
    *,
    match: str | None,
) -> int:
    text = context.visible_text() or context.parsed.text.strip() or NO_SUBJECT
    stored = await _store_attachments(session, context, sender)
    comment = NewComment(
        body=text,
        public=_public_for(sender),
        attachment_ids=stored.ids,
        via=Via.email,
        source=context.source(match),
    )
    changes = ChangeSet()
    actor = _actor(sender)
    row = await add_comment(session, ticket, comment, actor=actor, changes=changes, now=context.now)
    await _copy_recipients(session, context, ticket, sender, changes)
    await commit_change(session, ticket, changes, actor=actor, now=context.now)
    return row.id


async def _copy_recipients(
    session: AsyncSession, context: _Context, ticket: Ticket, sender: User, changes: ChangeSet
) -> None:
    """Whoever the customer copied joins the conversation as a CC."""
    addresses = [
        a
        for a in [*context.parsed.to, *context.parsed.cc]
        if not context.ours.is_ours(a.email) and a.email != (context.email.sender or "")
    ]
    users = await customers_for(session, addresses)
    ids = [u.id for u in users if u.id != ticket.requester_id]
    added = await add_ccs(session, ticket, ids, created_by=sender.id)
    for entry in added:
        changes.note("cc", None, entry)


async def _new_ticket(
    session: AsyncSession,
    context: _Context,
    sender: User,
    *,
    refused: Candidate | None = None,
    follow_up_of: int | None = None,
) -> Outcome:
    parsed = context.parsed
    subject = _SUBJECT_TOKEN.sub("", parsed.subject).strip()[:_SUBJECT_MAX] or NO_SUBJECT
    extra: dict[str, Any] = {}
    if follow_up_of is not None:
        extra["follow_up_of"] = follow_up_of
    if refused is not None:
        # The mail pointed at a ticket its sender is not on: say so to staff, never join it.
        extra["thread_refused"] = {"ticket_id": refused.ticket_id, "match": refused.match.value}
    stored = await _store_attachments(session, context, sender)
    first = NewComment(
        body=parsed.text.strip() or subject,
        html_body=stored.html_with_images(parsed.html),
        public=True,
        attachment_ids=stored.ids,
        via=Via.email,
        source=context.source(None, **extra),
    )
    draft = TicketDraft(
        subject=subject,
        requester=sender,
        submitter_id=sender.id,
        status=await default_status(session, StatusCategory.new),
        first_comment=first,
        channel=Channel.email,
        group_id=context.channel.group_id,
        locale=context.language(),
        email_channel_id=context.channel.id,
    )
    actor = _actor(sender)
    opened = await open_ticket(session, draft, actor=actor, author=actor, now=context.now)
    changes = ChangeSet()
    await _copy_recipients(session, context, opened.ticket, sender, changes)
    if changes:
        await commit_change(session, opened.ticket, changes, actor=actor, now=context.now)
    return Outcome(InboundStatus.processed, "new_ticket", opened.ticket.id, opened.first_comment.id)

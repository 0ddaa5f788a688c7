"""A message from a messaging channel becomes a comment in its sender's conversation, or a
new ticket; the same external id twice is done once.

Never commits; everything a message writes (the customer, the ticket, its comment, the
stored files, the message row) commits or rolls back together, so a refused message leaves
no partial ticket behind.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.attachments.service import store_received_file
from helpdesk_api.attachments.storage import LocalStorage
from helpdesk_api.channels.customers import customer_for, lock_identity, normalized
from helpdesk_api.channels.schemas import MessageResult
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.settings import Settings
from helpdesk_api.kb.bot import BotConfig, answer_at_once
from helpdesk_api.kb.deflections import answer_by_keyword
from helpdesk_api.models import (
    Channel,
    ChannelConversation,
    ChannelKind,
    ChannelMessage,
    IdentityKind,
    MessagingChannel,
    Role,
    StatusCategory,
    Ticket,
    User,
    Via,
)
from helpdesk_api.statuses.service import default_status
from helpdesk_api.tickets import ChangeSet, NewComment, TicketDraft, add_comment, commit_change
from helpdesk_api.tickets import open_ticket as open_new_ticket

SUBJECT_CHARS = 80
TICKET_CHANNEL = {
    ChannelKind.chat: Channel.chat,
    ChannelKind.telegram: Channel.telegram,
    ChannelKind.whatsapp: Channel.social,
    ChannelKind.phone: Channel.phone,
    ChannelKind.social: Channel.social,
    ChannelKind.alertmanager: Channel.alert,
}


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Inbound:
    """One message, whichever channel brought it."""

    external_id: str
    kind: IdentityKind
    value: str
    name: str | None
    text: str
    files: Sequence[File] = ()
    reply_to: str | None = None  # where replies go, when not the identity (a Telegram chat)
    source: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    message: ChannelMessage
    duplicate: bool

    def result(self) -> MessageResult:
        m = self.message
        return MessageResult(
            id=m.id,
            channel_id=m.channel_id,
            external_id=m.external_id,
            user_id=m.user_id,
            ticket_id=m.ticket_id,
            comment_id=m.comment_id,
            outcome=m.outcome,
            duplicate=self.duplicate,
            received_at=m.received_at,
        )


def via_of(channel: MessagingChannel) -> Via:
    return Via(TICKET_CHANNEL[ChannelKind(channel.kind)].value)


def subject_of(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= SUBJECT_CHARS else line[: SUBJECT_CHARS - 1].rstrip() + "…"


async def _claim(
    session: AsyncSession, channel: MessagingChannel, inbound: Inbound, value: str, now: datetime
) -> ChannelMessage | None:
    """The message's row, or None when its external id was here before. A concurrent twin
    waits on the unique index until the first commits, then finds it."""
    inserted = await session.scalar(
        insert(ChannelMessage)
        .values(
            channel_id=channel.id,
            external_id=inbound.external_id,
            identity_kind=inbound.kind.value,
            identity_value=value,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
        .returning(ChannelMessage.id)
    )
    return None if inserted is None else await session.get_one(ChannelMessage, inserted)


async def ignore(
    session: AsyncSession, channel: MessagingChannel, inbound: Inbound, now: datetime
) -> Received:
    """Remember an id that carries nothing to answer (a Telegram update that is no message),
    so its retries are known too."""
    row = await _claim(session, channel, inbound, inbound.value, now)
    if row is None:
        return Received(await _existing(session, channel, inbound.external_id), duplicate=True)
    row.outcome = "ignored"
    await session.flush()
    return Received(row, duplicate=False)


async def _existing(
    session: AsyncSession, channel: MessagingChannel, external_id: str
) -> ChannelMessage:
    found = await session.scalar(
        select(ChannelMessage).where(
            ChannelMessage.channel_id == channel.id, ChannelMessage.external_id == external_id
        )
    )
    assert found is not None  # the conflict that skipped our insert names it
    return found


async def receive(
    session: AsyncSession,
    channel: MessagingChannel,
    inbound: Inbound,
    *,
    settings: Settings,
    now: datetime,
) -> Received:
    value = normalized(inbound.kind, inbound.value)
    row = await _claim(session, channel, inbound, value, now)
    if row is None:
        return Received(await _existing(session, channel, inbound.external_id), duplicate=True)
    await lock_identity(session, channel.id, inbound.kind.value, value)
    via = via_of(channel)
    customer = await customer_for(session, inbound.kind, value, inbound.name, via=via.value)
    attachment_ids = await _store_files(session, settings, customer, inbound.files)
    comment = NewComment(
        body=inbound.text,
        public=True,
        attachment_ids=attachment_ids,
        via=via,
        source={"channel": {"channel_id": channel.id, "external_id": inbound.external_id,
                            **inbound.source}},
    )  # fmt: skip
    actor = Actor(user_id=customer.id, role=Role.customer, via=via)
    ticket = await _open_conversation(session, channel, inbound.kind, value, now)
    if ticket is not None:
        changes = ChangeSet()
        written = await add_comment(session, ticket, comment, actor=actor, changes=changes, now=now)
        await commit_change(session, ticket, changes, actor=actor, now=now)
        await session.execute(
            update(ChannelConversation)
            .where(ChannelConversation.ticket_id == ticket.id)
            .values(last_message_at=now, reply_to=inbound.reply_to)
        )
        row.outcome, row.comment_id = "comment", written.id
        # "solved" in answer to the bot's reply accepts its articles and solves the ticket.
        await answer_by_keyword(session, ticket, inbound.text, now=now)
    else:
        draft = TicketDraft(
            subject=subject_of(inbound.text),
            requester=customer,
            submitter_id=customer.id,
            status=await default_status(session, StatusCategory.new),
            first_comment=comment,
            channel=TICKET_CHANNEL[ChannelKind(channel.kind)],
            group_id=channel.group_id,
        )
        opened = await open_new_ticket(session, draft, actor=actor, author=actor, now=now)
        ticket = opened.ticket
        session.add(
            ChannelConversation(
                ticket_id=ticket.id,
                channel_id=channel.id,
                identity_kind=inbound.kind.value,
                identity_value=value,
                reply_to=inbound.reply_to,
                last_message_at=now,
            )
        )
        row.outcome, row.comment_id = "new_ticket", opened.first_comment.id
        await session.flush()  # the conversation, which the bot's reply is relayed through
        await answer_at_once(
            session, BotConfig.of_channel(channel, settings), ticket, text=inbound.text,
            channel_id=channel.id, now=now,
        )  # fmt: skip
    row.user_id, row.ticket_id = customer.id, ticket.id
    await session.flush()
    received = Received(row, duplicate=False)
    await record_event(
        session,
        EventType.channel_message_received,
        actor_id=customer.id,
        via=via.value,
        ticket_id=ticket.id,
        data={"message": received.result().model_dump(mode="json")},
    )
    return received


async def _open_conversation(
    session: AsyncSession,
    channel: MessagingChannel,
    kind: IdentityKind,
    value: str,
    now: datetime,
) -> Ticket | None:
    """The sender's latest conversation on the channel, locked, if a message may still join
    it: not closed or merged away, and if solved, solved within the reopen window."""
    ticket = await session.scalar(
        select(Ticket)
        .join(ChannelConversation, ChannelConversation.ticket_id == Ticket.id)
        .where(
            ChannelConversation.channel_id == channel.id,
            ChannelConversation.identity_kind == kind.value,
            ChannelConversation.identity_value == value,
        )
        .order_by(ChannelConversation.ticket_id.desc())
        .limit(1)
        .with_for_update(of=Ticket)
    )
    if ticket is None or ticket.merged_into_id is not None:
        return None
    if ticket.status_category == StatusCategory.closed:
        return None
    window = timedelta(seconds=channel.reopen_window_seconds)
    if ticket.status_category == StatusCategory.solved and (
        ticket.solved_at is None or ticket.solved_at < now - window
    ):
        return None
    return ticket


async def _store_files(
    session: AsyncSession, settings: Settings, uploader: User, files: Sequence[File]
) -> list[int]:
    storage = LocalStorage(settings.data_dir / "attachments")
    ids = []
    for f in files:
        attachment = await store_received_file(
            session,
            storage=storage,
            uploader_id=uploader.id,
            content=f.content,
            filename=f.filename,
            content_type=f.content_type,
        )
        ids.append(attachment.id)
    return ids

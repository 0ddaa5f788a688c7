"""Agents' public replies in a channel's conversation go back out through the channel.

A reaction of the ticket pipeline (its last stage): in the transaction that writes the reply
it writes the outgoing message into ``channel_deliveries``, and the worker sends it after
commit (``delivery.py``). A rolled-back reply sends nothing; a committed one is sent at
least once. The customer's own messages, and private notes, are never sent.
"""

import json
from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.attachments.service import attachments_for_comments
from helpdesk_api.models import (
    Channel,
    ChannelConversation,
    ChannelDelivery,
    ChannelKind,
    DeliveryTarget,
    MessagingChannel,
    Role,
    TicketComment,
    User,
)
from helpdesk_api.tickets import TicketChange

REPLY_TYPE: Final = "channel.reply"
# The Bot API refuses longer texts: a longer reply goes out in parts, in order.
TELEGRAM_TEXT_MAX = 4096
_CONVERSATION_CHANNELS = frozenset({Channel.chat, Channel.phone, Channel.telegram, Channel.social})


class ReplyAuthor(BaseModel):
    id: int | None
    name: str | None


class ReplyAttachment(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int


class ReplyRecipient(BaseModel):
    kind: str = Field(description="The sender identity's kind, as the channel gave it.")
    value: str
    reply_to: str | None = Field(description="Where to answer, when the bridge gave one.")


class ChannelReplyData(BaseModel):
    channel_id: int
    ticket_id: int
    comment_id: int
    recipient: ReplyRecipient
    text: str
    author: ReplyAuthor
    attachments: list[ReplyAttachment]
    created_at: datetime


class ChannelReply(BaseModel):
    """What a channel's `webhook_url` receives for each public reply on its conversations,
    signed per Standard Webhooks with the channel's `webhook_secret`."""

    # A literal, so a client's union of webhook messages narrows on ``type`` (TypeScript).
    type: Literal["channel.reply"]
    timestamp: datetime
    data: ChannelReplyData


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def telegram_parts(text: str) -> list[str]:
    return [text[i : i + TELEGRAM_TEXT_MAX] for i in range(0, len(text), TELEGRAM_TEXT_MAX)] or [
        text
    ]


async def _rows(
    session: AsyncSession,
    channel: MessagingChannel,
    conversation: ChannelConversation,
    comment: TicketComment,
) -> list[dict[str, Any]]:
    base = {"channel_id": channel.id, "ticket_id": comment.ticket_id, "comment_id": comment.id}
    if channel.kind == ChannelKind.telegram:
        chat_id = conversation.reply_to or conversation.identity_value
        return [
            {
                **base,
                "part": n,
                "target": DeliveryTarget.telegram,
                "msg_id": f"chmsg_{comment.id}_{channel.id}_{n}",
                "payload": _dumps({"chat_id": chat_id, "text": text}),
            }
            for n, text in enumerate(telegram_parts(comment.body))
        ]
    if not channel.webhook_url:
        return []
    author = await session.get(User, comment.author_id) if comment.author_id is not None else None
    files = (await attachments_for_comments(session, [comment.id]))[comment.id]
    reply = ChannelReply(
        type=REPLY_TYPE,
        timestamp=comment.created_at,
        data=ChannelReplyData(
            channel_id=channel.id,
            ticket_id=comment.ticket_id,
            comment_id=comment.id,
            recipient=ReplyRecipient(
                kind=conversation.identity_kind,
                value=conversation.identity_value,
                reply_to=conversation.reply_to,
            ),
            text=comment.body,
            author=ReplyAuthor(id=comment.author_id, name=author.name if author else None),
            attachments=[
                ReplyAttachment(
                    id=a.id, filename=a.filename, content_type=a.content_type, size=a.size
                )
                for a in files
            ],
            created_at=comment.created_at,
        ),
    )
    return [
        {
            **base,
            "part": 0,
            "target": DeliveryTarget.webhook,
            "msg_id": f"chmsg_{comment.id}_{channel.id}_0",
            "payload": _dumps(reply.model_dump(mode="json")),
        }
    ]


async def relay_replies(session: AsyncSession, change: TicketChange) -> None:
    ticket, changes = change.ticket, change.changes
    # Cheap tests first: most tickets are not conversations of a channel, and their changes
    # must cost no query here.
    if ticket.channel not in _CONVERSATION_CHANNELS:
        return
    if changes.comment_id is None or not changes.comment_public:
        return
    if change.actor.role == Role.customer:
        return
    # One statement, always sent (not the identity map's maybe): the bench's floors mirror it
    # (bench/floor_sql.py, CONVERSATION_SQL).
    conversation = await session.scalar(
        select(ChannelConversation).where(ChannelConversation.ticket_id == ticket.id)
    )
    if conversation is None:
        return
    channel = await session.scalar(
        select(MessagingChannel).where(MessagingChannel.id == conversation.channel_id)
    )
    if channel is None or not channel.is_active:
        return
    comment = await session.get_one(TicketComment, changes.comment_id)
    if not comment.is_public:
        return
    rows = await _rows(session, channel, conversation, comment)
    if rows:
        await session.execute(
            insert(ChannelDelivery)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["channel_id", "comment_id", "part"])
        )

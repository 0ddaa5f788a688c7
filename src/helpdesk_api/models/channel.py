"""Messaging channels: chat widgets, phone systems, social bridges, Telegram bots and
Alertmanager, each a row with its own secrets; what came in through them, the conversations
they carry, the alert groups they track, and the replies waiting to go back out."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin


class ChannelKind(StrEnum):
    chat = "chat"
    telegram = "telegram"
    whatsapp = "whatsapp"
    phone = "phone"
    social = "social"
    alertmanager = "alertmanager"


class DeliveryTarget(StrEnum):
    webhook = "webhook"  # the channel's outbound webhook, signed (a bridge relays it)
    telegram = "telegram"  # the Bot API's sendMessage


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class MessagingChannel(IdMixin, Base):
    __tablename__ = "messaging_channels"
    __table_args__ = (CheckConstraint(_in("kind", ChannelKind), name="kind"),)

    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # What callers present (a bearer token, or Telegram's secret-token header): a random
    # 256-bit secret, so its SHA-256 digest is a safe, indexable store, as for API tokens.
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    # Agents' public replies go here, signed with webhook_secret (Standard Webhooks).
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_secret: Mapped[str | None] = mapped_column(String(100))
    # A solved conversation is reopened by a message within this window; past it (or once
    # closed) a message opens a new ticket.
    reopen_window_seconds: Mapped[int] = mapped_column(default=86400, server_default="86400")
    telegram_bot_token: Mapped[str | None] = mapped_column(String(200))
    telegram_api_base_url: Mapped[str | None] = mapped_column(String(2048))
    # Alertmanager: solve the group's ticket once every alert of the group is resolved.
    alert_solve_when_resolved: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The knowledge base bot: answer a new conversation at once with the best public
    # articles whose search rank reaches kb_bot_min_rank, at most kb_bot_max_articles.
    kb_bot_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    kb_bot_min_rank: Mapped[float] = mapped_column(default=0.05, server_default="0.05")
    kb_bot_max_articles: Mapped[int] = mapped_column(default=3, server_default="3")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class ChannelMessage(IdMixin, Base):
    """A message that came in, by its external id: a replay finds this row and gets the same
    answer, whatever it carries."""

    __tablename__ = "channel_messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id", name="uq_channel_messages_channel_external"),
        Index("ix_channel_messages_ticket_id", "ticket_id"),
        Index("ix_channel_messages_user_id", "user_id"),
    )

    channel_id: Mapped[int] = mapped_column(ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    identity_kind: Mapped[str] = mapped_column(String(20))
    identity_value: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_comments.id", ondelete="SET NULL")
    )
    outcome: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ChannelConversation(Base):
    """A ticket carried by a messaging channel: whom it talks to, and where replies go."""

    __tablename__ = "channel_conversations"
    __table_args__ = (
        # A sender's latest conversation on a channel: one index range, newest first.
        Index(
            "ix_channel_conversations_identity",
            "channel_id",
            "identity_kind",
            "identity_value",
            "ticket_id",
        ),
    )

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[int] = mapped_column(ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    identity_kind: Mapped[str] = mapped_column(String(20))
    identity_value: Mapped[str] = mapped_column(String(320))
    # Where a reply goes on the other side, when it is not the identity (a Telegram chat).
    reply_to: Mapped[str | None] = mapped_column(String(320))
    last_message_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AlertGroup(IdMixin, Base):
    """One Alertmanager group (``groupKey``) and its current ticket; ``alerts`` maps each
    alert's fingerprint to its last status."""

    __tablename__ = "alert_groups"
    __table_args__ = (
        UniqueConstraint("channel_id", "group_key_hash", name="uq_alert_groups_channel_key"),
    )

    channel_id: Mapped[int] = mapped_column(ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    # Group keys have no length limit: the unique index is on their digest.
    group_key_hash: Mapped[str] = mapped_column(String(64))
    group_key: Mapped[str] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    alerts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ChannelDelivery(IdMixin, Base):
    """A reply on its way out, retried by the worker until delivered or given up; the
    payload is frozen when the reply is written, so every retry sends the same bytes."""

    __tablename__ = "channel_deliveries"
    __table_args__ = (
        CheckConstraint(_in("target", DeliveryTarget), name="target"),
        CheckConstraint(
            "status IN ('pending', 'delivering', 'succeeded', 'failed', 'gave_up')",
            name="status",
        ),
        UniqueConstraint(
            "channel_id", "comment_id", "part", name="uq_channel_deliveries_comment_part"
        ),
        Index(
            "ix_channel_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'delivering')"),
        ),
        Index("ix_channel_deliveries_ticket_id_id", "ticket_id", "id"),
    )

    channel_id: Mapped[int] = mapped_column(ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("ticket_comments.id", ondelete="CASCADE"))
    # A long reply goes to Telegram in several messages, in order.
    part: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    target: Mapped[str] = mapped_column(String(20))
    msg_id: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    claimed_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]

"""Mailboxes, every message that came in (raw, before anything else), and the outbox."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin


class ImapSecurity(StrEnum):
    ssl = "ssl"
    starttls = "starttls"
    none = "none"


class InboundSource(StrEnum):
    smtp = "smtp"
    imap = "imap"
    api = "api"


class InboundStatus(StrEnum):
    received = "received"  # stored, not processed yet (or processing crashed mid-way)
    processed = "processed"  # became a ticket or a comment
    ignored = "ignored"  # machine mail, or a copy we already had: nothing to do
    failed = "failed"  # quarantined with its error; retry or discard
    discarded = "discarded"  # an admin gave up on it; the raw message is kept


class OutboundStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class EmailChannel(IdMixin, Base):
    """A support address: where its mail comes from and which group new tickets go to."""

    __tablename__ = "email_channels"
    __table_args__ = (CheckConstraint(_in("imap_security", ImapSecurity), name="imap_security"),)

    name: Mapped[str] = mapped_column(String(100))
    # Lower-cased: mail systems compare the domain without case and we compare the whole.
    address: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Send an automatic "we got your request" reply to a new ticket's requester.
    acknowledge: Mapped[bool] = mapped_column(default=True, server_default=true())
    imap_host: Mapped[str | None] = mapped_column(String(255))
    imap_port: Mapped[int | None]
    imap_security: Mapped[str] = mapped_column(
        String(10), default=ImapSecurity.ssl, server_default=ImapSecurity.ssl.value
    )
    imap_username: Mapped[str | None] = mapped_column(String(320))
    # Write-only through the API; needed in clear to log in.
    imap_password: Mapped[str | None] = mapped_column(String(500))
    imap_folder: Mapped[str] = mapped_column(String(255), default="INBOX", server_default="INBOX")
    # Imported mail moves here; without it, imported mail is flagged seen and left in place.
    imap_archive_folder: Mapped[str | None] = mapped_column(String(255))
    imap_uid_validity: Mapped[int | None]
    imap_last_uid: Mapped[int] = mapped_column(default=0, server_default="0")
    imap_checked_at: Mapped[datetime | None]
    imap_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class InboundEmail(IdMixin, Base):
    """One message as it arrived, stored before it is parsed so that nothing is ever lost.

    ``dedupe_key`` is the Message-ID, or a hash of the raw bytes when there is none: the same
    message through two mailboxes, a retried POST or an IMAP re-read is one row.
    """

    __tablename__ = "inbound_emails"
    __table_args__ = (
        CheckConstraint(_in("source", InboundSource), name="source"),
        CheckConstraint(_in("status", InboundStatus), name="status"),
        UniqueConstraint("dedupe_key", name="uq_inbound_emails_dedupe_key"),
        # Threading: a reply's In-Reply-To and References looked up among what came in.
        Index(
            "ix_inbound_emails_message_id",
            "message_id",
            postgresql_where=text("message_id IS NOT NULL AND ticket_id IS NOT NULL"),
        ),
        Index(
            "ix_inbound_emails_failed",
            "channel_id",
            "id",
            postgresql_where=text("status = 'failed'"),
        ),
        Index(
            "ix_inbound_emails_unprocessed",
            "id",
            postgresql_where=text("status = 'received'"),
        ),
        # A ticket's conversation, for the threading headers of our replies.
        Index("ix_inbound_emails_ticket_id_received_at", "ticket_id", "received_at"),
        # The per-sender hourly limit.
        Index("ix_inbound_emails_sender_received_at", "sender", "received_at"),
    )

    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_channels.id", ondelete="SET NULL")
    )
    dedupe_key: Mapped[str] = mapped_column(String(1000))
    message_id: Mapped[str | None] = mapped_column(String(998))
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(10))
    envelope_from: Mapped[str | None] = mapped_column(String(320))
    envelope_to: Mapped[list[str]] = mapped_column(
        ARRAY(String(320)), default=list, server_default="{}"
    )
    size: Mapped[int]
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    status: Mapped[str] = mapped_column(
        String(10), default=InboundStatus.received, server_default=InboundStatus.received.value
    )
    # What processing did: new_ticket, comment, automatic, duplicate, rate_limited, ...
    outcome: Mapped[str | None] = mapped_column(String(30))
    # Which header or token joined it to its ticket (in-reply-to, references, subject-token).
    thread_match: Mapped[str | None] = mapped_column(String(30))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_comments.id", ondelete="SET NULL")
    )
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[datetime | None]


class OutboundEmail(IdMixin, Base):
    """A message in the outbox: written with the change that caused it, sent by the worker.

    ``raw`` is frozen when the row is written, so every retry sends the same bytes under the
    same Message-ID, which is also how a receiving server recognises a repeat.
    """

    __tablename__ = "outbound_emails"
    __table_args__ = (
        CheckConstraint(_in("status", OutboundStatus), name="status"),
        Index(
            "ix_outbound_emails_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
        Index("ix_outbound_emails_ticket_id_id", "ticket_id", "id"),
    )

    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_comments.id", ondelete="SET NULL")
    )
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_channels.id", ondelete="SET NULL")
    )
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The notification: public_reply, status_changed, ticket_assigned, acknowledgement, ...
    kind: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[list[str]] = mapped_column(ARRAY(String(320)))
    subject: Mapped[str] = mapped_column(String(998))
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    status: Mapped[str] = mapped_column(
        String(10), default=OutboundStatus.pending, server_default=OutboundStatus.pending.value
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]


class NotificationTemplate(IdMixin, Base):
    """An admin's wording for one notification in one locale; the built-in one otherwise."""

    __tablename__ = "notification_templates"
    __table_args__ = (
        UniqueConstraint("event", "locale", name="uq_notification_templates_event_locale"),
    )

    event: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(35))
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

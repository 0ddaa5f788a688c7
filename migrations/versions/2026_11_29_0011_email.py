"""E-mail in and out: mailboxes, every inbound message stored raw, the outbox, templates.

Also: a comment's ``source`` (which e-mail it came from and how it was threaded), a ticket's
detected ``locale``, staff's ``notification_settings``, and statuses that tell the requester
when a ticket enters them (the built-in solved statuses do, as customers expect).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 02:31:52.898923
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_templates",
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_templates")),
        sa.UniqueConstraint("event", "locale", name="uq_notification_templates_event_locale"),
    )
    op.create_table(
        "email_channels",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("group_id", sa.BigInteger(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("acknowledge", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("imap_host", sa.String(length=255), nullable=True),
        sa.Column("imap_port", sa.BigInteger(), nullable=True),
        sa.Column("imap_security", sa.String(length=10), server_default="ssl", nullable=False),
        sa.Column("imap_username", sa.String(length=320), nullable=True),
        sa.Column("imap_password", sa.String(length=500), nullable=True),
        sa.Column("imap_folder", sa.String(length=255), server_default="INBOX", nullable=False),
        sa.Column("imap_archive_folder", sa.String(length=255), nullable=True),
        sa.Column("imap_uid_validity", sa.BigInteger(), nullable=True),
        sa.Column("imap_last_uid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("imap_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("imap_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "imap_security IN ('ssl', 'starttls', 'none')",
            name=op.f("ck_email_channels_imap_security"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_email_channels_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_channels")),
        sa.UniqueConstraint("address", name=op.f("uq_email_channels_address")),
    )
    op.create_table(
        "inbound_emails",
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=1000), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("sender", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("envelope_from", sa.String(length=320), nullable=True),
        sa.Column(
            "envelope_to",
            postgresql.ARRAY(sa.String(length=320)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="received", nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("thread_match", sa.String(length=30), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "source IN ('smtp', 'imap', 'api')", name=op.f("ck_inbound_emails_source")
        ),
        sa.CheckConstraint(
            "status IN ('received', 'processed', 'ignored', 'failed', 'discarded')",
            name=op.f("ck_inbound_emails_status"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["email_channels.id"],
            name=op.f("fk_inbound_emails_channel_id_email_channels"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["ticket_comments.id"],
            name=op.f("fk_inbound_emails_comment_id_ticket_comments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_inbound_emails_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_emails")),
        sa.UniqueConstraint("dedupe_key", name="uq_inbound_emails_dedupe_key"),
    )
    op.create_index(
        "ix_inbound_emails_failed",
        "inbound_emails",
        ["channel_id", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'failed'"),
    )
    op.create_index(
        "ix_inbound_emails_message_id",
        "inbound_emails",
        ["message_id"],
        unique=False,
        postgresql_where=sa.text("message_id IS NOT NULL AND ticket_id IS NOT NULL"),
    )
    op.create_index(
        "ix_inbound_emails_sender_received_at",
        "inbound_emails",
        ["sender", "received_at"],
        unique=False,
    )
    op.create_index(
        "ix_inbound_emails_ticket_id_received_at",
        "inbound_emails",
        ["ticket_id", "received_at"],
        unique=False,
    )
    op.create_index(
        "ix_inbound_emails_unprocessed",
        "inbound_emails",
        ["id"],
        unique=False,
        postgresql_where=sa.text("status = 'received'"),
    )
    op.create_table(
        "outbound_emails",
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("recipient_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("mail_from", sa.String(length=320), nullable=False),
        sa.Column("recipients", postgresql.ARRAY(sa.String(length=320)), nullable=False),
        sa.Column("subject", sa.String(length=998), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("attempts", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')",
            name=op.f("ck_outbound_emails_status"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["email_channels.id"],
            name=op.f("fk_outbound_emails_channel_id_email_channels"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["ticket_comments.id"],
            name=op.f("fk_outbound_emails_comment_id_ticket_comments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_outbound_emails_recipient_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_outbound_emails_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_emails")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbound_emails_message_id")),
    )
    op.create_index(
        "ix_outbound_emails_due",
        "outbound_emails",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index(
        "ix_outbound_emails_ticket_id_id", "outbound_emails", ["ticket_id", "id"], unique=False
    )
    op.add_column(
        "ticket_comments",
        sa.Column("source", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column(
        "ticket_statuses",
        sa.Column(
            "notify_requester", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.add_column("tickets", sa.Column("locale", sa.String(length=35), nullable=True))
    op.add_column("tickets", sa.Column("email_channel_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_tickets_email_channel_id_email_channels"),
        "tickets",
        "email_channels",
        ["email_channel_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column(
        "users",
        sa.Column(
            "notification_settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.execute("UPDATE ticket_statuses SET notify_requester = true WHERE category = 'solved'")


def downgrade() -> None:
    op.drop_column("users", "notification_settings")
    op.drop_constraint(
        op.f("fk_tickets_email_channel_id_email_channels"), "tickets", type_="foreignkey"
    )
    op.drop_column("tickets", "email_channel_id")
    op.drop_column("tickets", "locale")
    op.drop_column("ticket_statuses", "notify_requester")
    op.drop_column("ticket_comments", "source")
    op.drop_index("ix_outbound_emails_ticket_id_id", table_name="outbound_emails")
    op.drop_index(
        "ix_outbound_emails_due",
        table_name="outbound_emails",
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.drop_table("outbound_emails")
    op.drop_index("ix_inbound_emails_ticket_id_received_at", table_name="inbound_emails")
    op.drop_index(
        "ix_inbound_emails_unprocessed",
        table_name="inbound_emails",
        postgresql_where=sa.text("status = 'received'"),
    )
    op.drop_index("ix_inbound_emails_sender_received_at", table_name="inbound_emails")
    op.drop_index(
        "ix_inbound_emails_message_id",
        table_name="inbound_emails",
        postgresql_where=sa.text("message_id IS NOT NULL AND ticket_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_inbound_emails_failed",
        table_name="inbound_emails",
        postgresql_where=sa.text("status = 'failed'"),
    )
    op.drop_table("inbound_emails")
    op.drop_table("email_channels")
    op.drop_table("notification_templates")

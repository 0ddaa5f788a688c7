"""Messaging channels (``/v1/channels``): chat, phone, social bridges, Telegram, Alertmanager.

- ``messaging_channels``: kind, name, routing group, the digest of the inbound secret, the
  outbound webhook and its signing secret, the reopen window, Telegram's bot token and API
  base URL, Alertmanager's solve-when-resolved switch.
- ``channel_messages``: what came in, unique per (channel, external id) so a replay is known.
- ``channel_conversations``: the ticket each conversation runs in, by sender identity.
- ``alert_groups``: one row per Alertmanager ``groupKey`` (by digest) with its ticket and the
  last status of each alert fingerprint.
- ``channel_deliveries``: the outbox of replies going back out, claimed by the worker.
- Tickets' ``channel`` and ``via`` already allow chat, phone, telegram, social and alert.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Written after 0017 while 0018-0020 were being written elsewhere; the merge re-points
# ``down_revision`` at whichever of them comes last.
revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "messaging_channels",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(), nullable=False),
        sa.Column("webhook_url", sa.String(length=2048), nullable=True),
        sa.Column("webhook_secret", sa.String(length=100), nullable=True),
        sa.Column("reopen_window_seconds", sa.BigInteger(), server_default="86400", nullable=False),
        sa.Column("telegram_bot_token", sa.String(length=200), nullable=True),
        sa.Column("telegram_api_base_url", sa.String(length=2048), nullable=True),
        sa.Column(
            "alert_solve_when_resolved", sa.Boolean(), server_default=sa.true(), nullable=False
        ),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "kind IN ('chat', 'telegram', 'whatsapp', 'phone', 'social', 'alertmanager')",
            name=op.f("ck_messaging_channels_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_messaging_channels_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_channels")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_messaging_channels_secret_hash")),
    )
    op.create_table(
        "channel_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("identity_kind", sa.String(length=20), nullable=False),
        sa.Column("identity_value", sa.String(length=320), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        _timestamp("received_at"),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["messaging_channels.id"],
            name=op.f("fk_channel_messages_channel_id_messaging_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_channel_messages_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_channel_messages_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["ticket_comments.id"],
            name=op.f("fk_channel_messages_comment_id_ticket_comments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_messages")),
        sa.UniqueConstraint(
            "channel_id", "external_id", name="uq_channel_messages_channel_external"
        ),
    )
    op.create_index("ix_channel_messages_ticket_id", "channel_messages", ["ticket_id"])
    # A customer merge moves the source's messages (users.merging).
    op.create_index("ix_channel_messages_user_id", "channel_messages", ["user_id"])
    op.create_table(
        "channel_conversations",
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("identity_kind", sa.String(length=20), nullable=False),
        sa.Column("identity_value", sa.String(length=320), nullable=False),
        sa.Column("reply_to", sa.String(length=320), nullable=True),
        _timestamp("last_message_at"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_channel_conversations_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["messaging_channels.id"],
            name=op.f("fk_channel_conversations_channel_id_messaging_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_channel_conversations")),
    )
    op.create_index(
        "ix_channel_conversations_identity",
        "channel_conversations",
        ["channel_id", "identity_kind", "identity_value", "ticket_id"],
    )
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("group_key_hash", sa.String(length=64), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "alerts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["messaging_channels.id"],
            name=op.f("fk_alert_groups_channel_id_messaging_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_alert_groups_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_groups")),
        sa.UniqueConstraint("channel_id", "group_key_hash", name="uq_alert_groups_channel_key"),
    )
    op.create_table(
        "channel_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("comment_id", sa.BigInteger(), nullable=False),
        sa.Column("part", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("msg_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("attempts", sa.BigInteger(), server_default="0", nullable=False),
        _timestamp("next_attempt_at"),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("created_at"),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "target IN ('webhook', 'telegram')", name=op.f("ck_channel_deliveries_target")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivering', 'succeeded', 'failed', 'gave_up')",
            name=op.f("ck_channel_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["messaging_channels.id"],
            name=op.f("fk_channel_deliveries_channel_id_messaging_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_channel_deliveries_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["ticket_comments.id"],
            name=op.f("fk_channel_deliveries_comment_id_ticket_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_deliveries")),
        sa.UniqueConstraint("msg_id", name=op.f("uq_channel_deliveries_msg_id")),
        sa.UniqueConstraint(
            "channel_id", "comment_id", "part", name="uq_channel_deliveries_comment_part"
        ),
    )
    op.create_index(
        "ix_channel_deliveries_due",
        "channel_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending', 'delivering')"),
    )
    op.create_index("ix_channel_deliveries_ticket_id_id", "channel_deliveries", ["ticket_id", "id"])


def downgrade() -> None:
    op.drop_table("channel_deliveries")
    op.drop_table("alert_groups")
    op.drop_table("channel_conversations")
    op.drop_table("channel_messages")
    op.drop_table("messaging_channels")

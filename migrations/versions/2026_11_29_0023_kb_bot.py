"""The knowledge base bot: per-channel settings and the deflections it records; files of
article translations.

- ``messaging_channels``: ``kb_bot_enabled`` (off), ``kb_bot_min_rank``,
  ``kb_bot_max_articles``.
- ``kb_deflections``: one bot reply (the articles offered, the link token's digest) and the
  requester's answer (offered / accepted / rejected, when, how).
- ``kb_attachments``: a stored file (``attachments``) belonging to a translation.
- ``kb_categories.translations``, ``kb_sections.translations``: names and descriptions per
  locale, ``{locale: {"name", "description"}}``.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-29 14:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Written beside other branches' 0023; the merge re-points ``down_revision``.
revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "messaging_channels",
        sa.Column("kb_bot_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "messaging_channels",
        sa.Column("kb_bot_min_rank", sa.Float(), server_default="0.05", nullable=False),
    )
    op.add_column(
        "messaging_channels",
        sa.Column("kb_bot_max_articles", sa.BigInteger(), server_default="3", nullable=False),
    )
    op.create_table(
        "kb_deflections",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("requester_id", sa.BigInteger(), nullable=True),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("article_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("answered_by", sa.String(length=20), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('offered', 'accepted', 'rejected')", name=op.f("ck_kb_deflections_state")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_kb_deflections_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["ticket_comments.id"],
            name=op.f("fk_kb_deflections_comment_id_ticket_comments"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["messaging_channels.id"],
            name=op.f("fk_kb_deflections_channel_id_messaging_channels"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_kb_deflections_requester_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_deflections")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kb_deflections_token_hash")),
    )  # fmt: skip
    op.create_index(
        "ix_kb_deflections_offered_at_id", "kb_deflections", ["offered_at", "id"], unique=False
    )
    op.create_index(
        "ix_kb_deflections_ticket_id", "kb_deflections", ["ticket_id", "id"], unique=False
    )

    op.create_table(
        "kb_attachments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("translation_id", sa.BigInteger(), nullable=False),
        sa.Column("attachment_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["translation_id"], ["kb_translations.id"],
            name=op.f("fk_kb_attachments_translation_id_kb_translations"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachments.id"],
            name=op.f("fk_kb_attachments_attachment_id_attachments"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_attachments")),
        sa.UniqueConstraint("attachment_id", name=op.f("uq_kb_attachments_attachment_id")),
    )  # fmt: skip
    op.create_index("ix_kb_attachments_translation_id", "kb_attachments", ["translation_id", "id"])

    for table in ("kb_categories", "kb_sections"):
        op.add_column(
            table,
            sa.Column(
                "translations",
                postgresql.JSONB(astext_type=sa.Text()),
                server_default=sa.text("'{}'::jsonb"),
                nullable=False,
            ),
        )


def downgrade() -> None:
    op.drop_column("kb_sections", "translations")
    op.drop_column("kb_categories", "translations")
    op.drop_table("kb_attachments")
    op.drop_table("kb_deflections")
    op.drop_column("messaging_channels", "kb_bot_max_articles")
    op.drop_column("messaging_channels", "kb_bot_min_rank")
    op.drop_column("messaging_channels", "kb_bot_enabled")

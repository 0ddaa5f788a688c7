"""Merging: tickets.merged_into_id, ticket links, CCs and followers, trigram subject search.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column[sa.DateTime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    # Trusted since PostgreSQL 13: the database owner may create it without superuser rights.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column("tickets", sa.Column("merged_into_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_tickets_merged_into_id_tickets"),
        "tickets",
        "tickets",
        ["merged_into_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(op.f("ix_tickets_merged_into_id"), "tickets", ["merged_into_id"])
    op.create_index(
        "ix_tickets_subject_trgm",
        "tickets",
        ["subject"],
        postgresql_using="gin",
        postgresql_ops={"subject": "gin_trgm_ops"},
    )
    op.create_table(
        "ticket_links",
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("linked_ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        _created_at(),
        sa.CheckConstraint(
            "kind IN ('related', 'duplicate', 'incident')", name=op.f("ck_ticket_links_kind")
        ),
        sa.CheckConstraint("ticket_id <> linked_ticket_id", name=op.f("ck_ticket_links_not_self")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_ticket_links_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["linked_ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_links_linked_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_links_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_links")),
    )
    op.create_index(
        "uq_ticket_links_pair",
        "ticket_links",
        [
            sa.text("least(ticket_id, linked_ticket_id)"),
            sa.text("greatest(ticket_id, linked_ticket_id)"),
        ],
        unique=True,
    )
    op.create_index(
        "uq_ticket_links_incident",
        "ticket_links",
        ["ticket_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'incident'"),
    )
    op.create_index("ix_ticket_links_ticket_id_id", "ticket_links", ["ticket_id", "id"])
    op.create_index(
        "ix_ticket_links_linked_ticket_id_id", "ticket_links", ["linked_ticket_id", "id"]
    )
    op.create_table(
        "ticket_ccs",
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        _created_at(),
        sa.CheckConstraint("kind IN ('cc', 'follower')", name=op.f("ck_ticket_ccs_kind")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_ticket_ccs_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_ccs_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ticket_ccs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name=op.f("pk_ticket_ccs")),
    )
    op.create_index("ix_ticket_ccs_user_id", "ticket_ccs", ["user_id"])


def downgrade() -> None:
    op.drop_table("ticket_ccs")
    op.drop_table("ticket_links")
    op.drop_index("ix_tickets_subject_trgm", table_name="tickets")
    op.drop_index(op.f("ix_tickets_merged_into_id"), table_name="tickets")
    op.drop_constraint(op.f("fk_tickets_merged_into_id_tickets"), "tickets", type_="foreignkey")
    op.drop_column("tickets", "merged_into_id")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")

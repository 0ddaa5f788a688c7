"""Macros: agents' canned responses with ticket changes (``/v1/macros``).

- ``macros``: title, visibility (personal with ``owner_id``, group with ``group_id``,
  shared), the actions (the triggers' vocabulary, as JSON), the comment's templates and
  their translations, and a usage count.
- A trigram index on the title for the picker's search (``pg_trgm`` exists since 0003), and
  one index per list order (title, most used).
- ``via = 'macro'`` on audits, comments and events needs no change: ``via`` is a plain
  ``varchar(20)`` without a CHECK constraint.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Written after 0014 while 0015 and 0016 were being written elsewhere; the merge re-points
# ``down_revision`` at whichever of them comes last.
revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "macros",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=True),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "actions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("comment", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("usage_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "visibility IN ('personal', 'group', 'shared')", name=op.f("ck_macros_visibility")
        ),
        sa.CheckConstraint(
            "(visibility = 'group') = (group_id IS NOT NULL)", name=op.f("ck_macros_group_id")
        ),
        sa.CheckConstraint(
            "(visibility = 'personal') = (owner_id IS NOT NULL)", name=op.f("ck_macros_owner_id")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_macros_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_macros_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_macros_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macros")),
    )
    op.create_index(
        "ix_macros_title_trgm",
        "macros",
        ["title"],
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_index("ix_macros_title_id", "macros", ["title", "id"])
    op.create_index(
        "ix_macros_usage_count_id", "macros", [sa.text("usage_count DESC"), sa.text("id DESC")]
    )
    op.create_index(
        "ix_macros_owner_id",
        "macros",
        ["owner_id"],
        postgresql_where=sa.text("owner_id IS NOT NULL"),
    )
    op.create_index(
        "ix_macros_group_id",
        "macros",
        ["group_id"],
        postgresql_where=sa.text("group_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("macros")

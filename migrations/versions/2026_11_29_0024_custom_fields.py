"""Custom fields on tickets, users and organisations.

- ``custom_fields``: the definitions, one table for the three kinds (``entity``), unique
  ``(entity, key)``; never deleted, only deactivated, so stored values stay readable.
- ``custom_fields`` JSONB ``{key: value}`` on ``tickets``, ``users`` and ``organizations``,
  ``'{}'`` by default (a constant default: adding the column rewrites no row).
- ``ix_tickets_custom_fields``: GIN with ``jsonb_path_ops`` for the ticket list's, views' and
  triggers' equality and containment conditions (``custom_fields @> '{"key": value}'``).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-29 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Written beside other branches' 0023; the merge re-points ``down_revision``.
revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENTITIES = "'ticket', 'user', 'organization'"
_TYPES = (
    "'text', 'textarea', 'integer', 'decimal', 'date', 'checkbox', 'dropdown', "
    "'multiselect', 'regex'"
)
_VALUED = ("tickets", "users", "organizations")


def upgrade() -> None:
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("options", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=True),
        sa.Column("required_for", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("agent_only", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("customer_title", sa.Text(), nullable=True),
        sa.Column("position", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.CheckConstraint(f"entity IN ({_ENTITIES})", name=op.f("ck_custom_fields_entity")),
        sa.CheckConstraint(f"type IN ({_TYPES})", name=op.f("ck_custom_fields_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_fields")),
        sa.UniqueConstraint("entity", "key", name="uq_custom_fields_entity_key"),
    )
    op.create_index(
        "ix_custom_fields_entity_position_id", "custom_fields", ["entity", "position", "id"]
    )
    for table in _VALUED:
        op.add_column(
            table,
            sa.Column(
                "custom_fields",
                postgresql.JSONB(astext_type=sa.Text()),
                server_default=sa.text("'{}'::jsonb"),
                nullable=False,
            ),
        )
    op.create_index(
        "ix_tickets_custom_fields",
        "tickets",
        ["custom_fields"],
        postgresql_using="gin",
        postgresql_ops={"custom_fields": "jsonb_path_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_custom_fields", table_name="tickets", postgresql_using="gin")
    for table in _VALUED:
        op.drop_column(table, "custom_fields")
    op.drop_index("ix_custom_fields_entity_position_id", table_name="custom_fields")
    op.drop_table("custom_fields")

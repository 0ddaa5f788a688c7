"""Saved views (``/v1/views``) and four shared ones on every desk.

- ``views``: title, visibility (personal with ``owner_id``, group with ``group_id``,
  shared), the conditions (the triggers' language over a ticket at rest, as JSON), the
  sort, the columns a UI shows, and a position.
- The defaults, shared and active (an admin may edit, deactivate or delete them): "My open
  tickets", "Unassigned in my groups", "SLA at risk" and "Recently solved".

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29 12:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Written beside 0018–0021 (other branches); the merge re-points ``down_revision``.
revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNSOLVED = ["new", "open", "pending", "on_hold"]
_COLUMNS = ["id", "subject", "requester_id", "status", "priority", "assignee_id", "updated_at"]
DEFAULT_VIEWS = [
    ("My open tickets", {"all": [
        {"field": "assignee_id", "operator": "is", "value": "me"},
        {"field": "status_category", "operator": "in", "value": _UNSOLVED},
    ]}, "-updated_at"),
    ("Unassigned in my groups", {"all": [
        {"field": "assignee_id", "operator": "is", "value": None},
        {"field": "group_id", "operator": "is", "value": "mine"},
        {"field": "status_category", "operator": "in", "value": _UNSOLVED},
    ]}, "created_at"),
    ("SLA at risk", {"any": [
        {"field": "sla_status", "operator": "is", "value": "at_risk"},
        {"field": "sla_status", "operator": "is", "value": "breached"},
    ]}, "sla_breach_at"),
    ("Recently solved", {"all": [
        {"field": "status_category", "operator": "is", "value": "solved"},
    ]}, "-updated_at"),
]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "views",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=True),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("conditions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sort", sa.String(length=30), nullable=False),
        sa.Column("columns", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("position", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_by_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "visibility IN ('personal', 'group', 'shared')", name=op.f("ck_views_visibility")
        ),
        sa.CheckConstraint(
            "(visibility = 'group') = (group_id IS NOT NULL)", name=op.f("ck_views_group_id")
        ),
        sa.CheckConstraint(
            "(visibility = 'personal') = (owner_id IS NOT NULL)", name=op.f("ck_views_owner_id")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_views_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_views_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_views_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_views")),
    )
    op.create_index("ix_views_position_id", "views", ["position", "id"])
    op.create_index(
        "ix_views_owner_id", "views", ["owner_id"], postgresql_where=sa.text("owner_id IS NOT NULL")
    )
    op.create_index(
        "ix_views_group_id", "views", ["group_id"], postgresql_where=sa.text("group_id IS NOT NULL")
    )
    views = sa.table(
        "views",
        sa.column("title", sa.Text()),
        sa.column("visibility", sa.String()),
        sa.column("conditions", postgresql.JSONB()),
        sa.column("sort", sa.String()),
        sa.column("columns", postgresql.JSONB()),
        sa.column("position", sa.BigInteger()),
    )
    op.bulk_insert(
        views,
        [
            {
                "title": title,
                "visibility": "shared",
                "conditions": conditions,
                "sort": sort,
                "columns": _COLUMNS,
                "position": position,
            }
            for position, (title, conditions, sort) in enumerate(DEFAULT_VIEWS)
        ],
    )


def downgrade() -> None:
    op.drop_table("views")

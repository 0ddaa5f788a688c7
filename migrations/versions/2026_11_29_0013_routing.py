"""Routing and assignment: a group's routing settings, agents' skills and availability, a
ticket's required skills, an organisation's account manager, and the index that counts an
agent's open tickets.

``group_memberships.last_routed_turn`` is round robin's cursor, per member: the eligible
member with the lowest turn (from ``routing_turn_seq``) is next. ``ix_tickets_assignee_id_status_category`` lets routing
count each candidate's open tickets as index-only ranges, at any number of closed ones.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 05:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "groups",
        sa.Column("routing_mode", sa.String(length=20), server_default="manual", nullable=False),
    )
    op.add_column(
        "groups",
        sa.Column(
            "routing_respect_availability",
            sa.Boolean(),
            server_default=sa.text("true"),
            nullable=False,
        ),
    )
    op.add_column("groups", sa.Column("routing_max_open_per_agent", sa.BigInteger(), nullable=True))
    op.add_column(
        "groups",
        sa.Column(
            "routing_match_language", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.create_check_constraint(
        op.f("ck_groups_routing_mode"),
        "groups",
        "routing_mode IN ('manual', 'round_robin', 'least_busy')",
    )
    op.create_check_constraint(
        op.f("ck_groups_routing_max_open_per_agent"),
        "groups",
        "routing_max_open_per_agent IS NULL OR routing_max_open_per_agent > 0",
    )
    op.add_column(
        "group_memberships", sa.Column("last_routed_turn", sa.BigInteger(), nullable=True)
    )
    op.execute("CREATE SEQUENCE routing_turn_seq")

    op.add_column(
        "users",
        sa.Column(
            "skills", postgresql.ARRAY(sa.String(length=100)), server_default="{}", nullable=False
        ),
    )
    op.add_column(
        "users",
        sa.Column("availability", sa.String(length=10), server_default="offline", nullable=False),
    )
    op.add_column(
        "users", sa.Column("availability_changed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_users_availability"), "users", "availability IN ('online', 'away', 'offline')"
    )

    op.add_column(
        "tickets",
        sa.Column(
            "required_skills",
            postgresql.ARRAY(sa.String(length=100)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_index(
        "ix_tickets_assignee_id_status_category", "tickets", ["assignee_id", "status_category"]
    )

    op.add_column("organizations", sa.Column("account_manager_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_organizations_account_manager_id_users"),
        "organizations",
        "users",
        ["account_manager_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("ix_organizations_account_manager_id", "organizations", ["account_manager_id"])


def downgrade() -> None:
    op.drop_index("ix_organizations_account_manager_id", table_name="organizations")
    op.drop_constraint(
        op.f("fk_organizations_account_manager_id_users"), "organizations", type_="foreignkey"
    )
    op.drop_column("organizations", "account_manager_id")

    op.drop_index("ix_tickets_assignee_id_status_category", table_name="tickets")
    op.drop_column("tickets", "required_skills")

    op.drop_constraint(op.f("ck_users_availability"), "users", type_="check")
    op.drop_column("users", "availability_changed_at")
    op.drop_column("users", "availability")
    op.drop_column("users", "skills")

    op.execute("DROP SEQUENCE routing_turn_seq")
    op.drop_column("group_memberships", "last_routed_turn")
    op.drop_constraint(op.f("ck_groups_routing_max_open_per_agent"), "groups", type_="check")
    op.drop_constraint(op.f("ck_groups_routing_mode"), "groups", type_="check")
    op.drop_column("groups", "routing_match_language")
    op.drop_column("groups", "routing_max_open_per_agent")
    op.drop_column("groups", "routing_respect_availability")
    op.drop_column("groups", "routing_mode")

"""SLA: business calendars, policies and targets, per-ticket clocks, tickets.sla_next_breach_at.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

METRICS = "metric IN ('first_reply', 'next_reply', 'periodic_update', 'resolution')"


def _timestamps() -> list[sa.Column[sa.DateTime]]:
    return [
        sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)
        for name in ("created_at", "updated_at")
    ]


def upgrade() -> None:
    op.create_table(
        "business_calendars",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("always_open", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("holidays", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_calendars")),
    )
    op.create_table(
        "sla_policies",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("calendar_id", sa.BigInteger(), nullable=False),
        sa.Column("conditions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_sla_policies_calendar_id_business_calendars"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
    )
    op.create_index("ix_sla_policies_position_id", "sla_policies", ["position", "id"])
    op.create_table(
        "sla_targets",
        sa.Column("policy_id", sa.BigInteger(), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("minutes", sa.BigInteger(), nullable=False),
        sa.Column("business_hours", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("pause_on", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.CheckConstraint(METRICS, name=op.f("ck_sla_targets_metric")),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_sla_targets_minutes")),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_targets_policy_id_sla_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_targets")),
        sa.UniqueConstraint("policy_id", "priority", "metric", name="uq_sla_targets_policy_metric"),
    )
    op.create_table(
        "ticket_slas",
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("policy_id", sa.BigInteger(), nullable=False),
        sa.Column("matched", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["sla_policies.id"], name=op.f("fk_ticket_slas_policy_id_sla_policies")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_slas_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_slas")),
    )
    op.create_table(
        "ticket_sla_metrics",
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("cycle", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("policy_id", sa.BigInteger(), nullable=False),
        sa.Column("target_minutes", sa.BigInteger(), nullable=False),
        sa.Column("business_hours", sa.Boolean(), nullable=False),
        sa.Column("pause_on", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_total", sa.Interval(), server_default=sa.text("'0'"), nullable=False),
        sa.Column("breach_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warning_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("achieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("breach_notified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.CheckConstraint(METRICS, name=op.f("ck_ticket_sla_metrics_metric")),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'achieved', 'breached')",
            name=op.f("ck_ticket_sla_metrics_status"),
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_ticket_sla_metrics_policy_id_sla_policies"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_sla_metrics_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_sla_metrics")),
        sa.UniqueConstraint("ticket_id", "metric", "cycle", name="uq_ticket_sla_metrics_cycle"),
    )
    op.create_index(
        "ix_ticket_sla_metrics_due_at",
        "ticket_sla_metrics",
        ["due_at"],
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.create_index(
        "ix_ticket_sla_metrics_warning_at",
        "ticket_sla_metrics",
        ["warning_at"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.add_column(
        "tickets", sa.Column("sla_next_breach_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_tickets_sla_next_breach_at_id", "tickets", ["sla_next_breach_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_sla_next_breach_at_id", table_name="tickets")
    op.drop_column("tickets", "sla_next_breach_at")
    op.drop_index("ix_ticket_sla_metrics_warning_at", table_name="ticket_sla_metrics")
    op.drop_index("ix_ticket_sla_metrics_due_at", table_name="ticket_sla_metrics")
    op.drop_table("ticket_sla_metrics")
    op.drop_table("ticket_slas")
    op.drop_table("sla_targets")
    op.drop_index("ix_sla_policies_position_id", table_name="sla_policies")
    op.drop_table("sla_policies")
    op.drop_table("business_calendars")

"""Reports: per-ticket metrics and daily backlog snapshots.

- ``ticket_metrics``: one row per ticket, kept by the ticket pipeline's last stage
  (``reports.tracking``); indexes on when tickets were first replied to, solved and left the
  backlog, the ranges reports read.
- Existing tickets get a row from what the ticket itself records (status and since when,
  first reply, solve, close); their counters and waits start at zero and their business
  minutes are unknown (NULL): their history before this revision is not replayed here.
- ``backlog_snapshots``: open tickets per day by status category, group and priority,
  written by the worker.
- A BRIN index on ``events.occurred_at`` for exports' ``start_time``, and one on public
  comments' ``created_at`` for activity reports' replies.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 11:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written after 0017 while 0018 was being written elsewhere; the merge re-points
# ``down_revision`` at whichever comes last.
revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ticket_metrics",
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("calendar_id", sa.BigInteger(), nullable=True),
        sa.Column("status_category", sa.String(length=20), nullable=False),
        sa.Column("category_since", _TZ, nullable=False),
        sa.Column("replies", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("replies_at_solve", sa.BigInteger(), nullable=True),
        sa.Column("reopens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("assignee_changes", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("group_changes", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("first_assigned_at", _TZ, nullable=True),
        sa.Column("first_reply_at", _TZ, nullable=True),
        sa.Column("solved_at", _TZ, nullable=True),
        sa.Column("closed_at", _TZ, nullable=True),
        sa.Column("left_backlog_at", _TZ, nullable=True),
        sa.Column("first_reply_minutes", sa.Float(), nullable=True),
        sa.Column("first_reply_business_minutes", sa.Float(), nullable=True),
        sa.Column("full_resolution_minutes", sa.Float(), nullable=True),
        sa.Column("full_resolution_business_minutes", sa.Float(), nullable=True),
        sa.Column("agent_wait_minutes", sa.Float(), server_default="0", nullable=False),
        sa.Column("agent_wait_business_minutes", sa.Float(), nullable=True),
        sa.Column("requester_wait_minutes", sa.Float(), server_default="0", nullable=False),
        sa.Column("requester_wait_business_minutes", sa.Float(), nullable=True),
        sa.Column("on_hold_minutes", sa.Float(), server_default="0", nullable=False),
        sa.Column("on_hold_business_minutes", sa.Float(), nullable=True),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_metrics_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_ticket_metrics_calendar_id_business_calendars"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_metrics")),
    )
    for column in ("solved_at", "first_reply_at", "left_backlog_at"):
        op.create_index(
            f"ix_ticket_metrics_{column}",
            "ticket_metrics",
            [column, "ticket_id"],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )
    op.execute(
        """
        INSERT INTO ticket_metrics (
            ticket_id, status_category, category_since, first_reply_at, first_reply_minutes,
            solved_at, full_resolution_minutes, closed_at, left_backlog_at, updated_at)
        SELECT id, status_category, status_changed_at, first_agent_reply_at,
               EXTRACT(epoch FROM first_agent_reply_at - created_at) / 60,
               solved_at, EXTRACT(epoch FROM solved_at - created_at) / 60,
               CASE WHEN status_category = 'closed' THEN status_changed_at END,
               CASE WHEN status_category IN ('solved', 'closed')
                    THEN coalesce(solved_at, status_changed_at) END,
               now()
        FROM tickets
        """
    )
    op.create_table(
        "backlog_snapshots",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status_category", sa.String(length=20), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=True),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("tickets", sa.BigInteger(), nullable=False),
        sa.Column("taken_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_backlog_snapshots_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backlog_snapshots")),
    )
    op.create_index("ix_backlog_snapshots_day", "backlog_snapshots", ["day"])
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"], postgresql_using="brin")
    op.create_index(
        "ix_ticket_comments_public_created_at",
        "ticket_comments",
        ["created_at"],
        postgresql_where=sa.text("is_public"),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_comments_public_created_at", table_name="ticket_comments")
    op.drop_index("ix_events_occurred_at", table_name="events")
    op.drop_table("backlog_snapshots")
    op.drop_table("ticket_metrics")

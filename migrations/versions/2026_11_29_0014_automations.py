"""Time-based automations: the rules, their firings, the reply times they measure, the
indexes the worker's sweep ranges over, and the default automations.

- ``automations``: as ``triggers`` (0012), without a set version (the sweep reads the active
  automations once per run).
- ``automation_firings``: one row per (automation, ticket, matching period), inserted in the
  transaction that acts, so an automation acts at most once per period, whatever the
  number of workers.
- ``tickets.last_requester_reply_at`` / ``last_agent_reply_at``: the last public reply of
  each side, filled from the existing comments (a ticket's first comment, the request
  itself, is not a reply).
- Four partial indexes ``(status_category, <time>, id)`` on tickets that are not closed.
- Defaults (see README, "Default automations"): "Close solved tickets after 4 days"
  (active), "Remind the requester after 5 business days pending" and "Solve pending tickets
  after 10 business days" (both inactive: they write to customers or close their requests,
  an admin turns them on).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 06:00:00.000000
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME_INDEXES = ("created_at", "status_changed_at", "last_requester_reply_at", "last_agent_reply_at")
REMINDED = "pending_reminder_sent"
REMINDER_SUBJECT = "We are waiting for your reply: {{ ticket.subject }}"
REMINDER_BODY = (
    "Hello {{ recipient.name }},\n\n"
    "your request #{{ ticket.id }} ({{ ticket.subject }}) is waiting for an answer from you. "
    "Please reply to this message so we can go on; without news we will consider it solved "
    "in a few days."
)


def _defaults(solved_id: int | None, closed_id: int | None) -> list[dict[str, Any]]:
    def pending_for(business_hours: float) -> dict[str, Any]:
        return {
            "field": "hours_since_pending",
            "operator": "greater_than",
            "value": business_hours,
            "business_hours": True,
        }

    rules: list[dict[str, Any]] = []
    if closed_id is not None:
        rules.append(
            {
                "title": "Close solved tickets after 4 days",
                "active": True,
                "rule": {
                    "conditions": {
                        "all": [
                            {
                                "field": "hours_since_solved",
                                "operator": "greater_than",
                                "value": 96,
                                "business_hours": False,
                            }
                        ],
                        "any": [],
                    },
                    "actions": [{"action": "set_status", "status_id": closed_id}],
                },
            }
        )
    rules.append(
        {
            "title": "Remind the requester after 5 business days pending",
            "active": False,
            "rule": {
                "conditions": {
                    "all": [
                        pending_for(40),
                        {"field": "tags", "operator": "not_includes", "value": [REMINDED]},
                    ],
                    "any": [],
                },
                "actions": [
                    {
                        "action": "notify",
                        "recipient": "requester",
                        "user_id": None,
                        "subject": REMINDER_SUBJECT,
                        "body": REMINDER_BODY,
                    },
                    {"action": "add_tags", "tags": [REMINDED]},
                ],
            },
        }
    )
    if solved_id is not None:
        rules.append(
            {
                "title": "Solve pending tickets after 10 business days",
                "active": False,
                "rule": {
                    "conditions": {"all": [pending_for(80)], "any": []},
                    "actions": [
                        {"action": "set_status", "status_id": solved_id},
                        {"action": "remove_tags", "tags": [REMINDED]},
                    ],
                },
            }
        )
    return rules


def upgrade() -> None:
    op.create_table(
        "automations",
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("rule", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automations")),
    )
    op.create_index(
        "ix_automations_position_id",
        "automations",
        ["position", "id"],
        unique=False,
        postgresql_where=sa.text("is_active"),
    )
    op.create_table(
        "automation_firings",
        sa.Column("automation_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("period_key", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            ["automations.id"],
            name=op.f("fk_automation_firings_automation_id_automations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_automation_firings_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "automation_id", "ticket_id", "period_key", name=op.f("pk_automation_firings")
        ),
    )
    op.create_index(
        op.f("ix_automation_firings_ticket_id"), "automation_firings", ["ticket_id"], unique=False
    )
    op.add_column(
        "tickets", sa.Column("last_requester_reply_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "tickets", sa.Column("last_agent_reply_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        """
        UPDATE tickets SET last_requester_reply_at = replies.requester,
                           last_agent_reply_at = replies.agent
        FROM (
            SELECT c.ticket_id,
                   max(c.created_at) FILTER (WHERE c.author_id = t.requester_id) AS requester,
                   max(c.created_at) FILTER (WHERE u.role IN ('agent', 'admin')) AS agent
            FROM ticket_comments c
            JOIN tickets t ON t.id = c.ticket_id
            JOIN users u ON u.id = c.author_id
            WHERE c.is_public
              AND c.id > (SELECT min(f.id) FROM ticket_comments f WHERE f.ticket_id = c.ticket_id)
            GROUP BY c.ticket_id
        ) AS replies
        WHERE replies.ticket_id = tickets.id
        """
    )
    for column in TIME_INDEXES:
        where = "status_category <> 'closed'"
        if column not in ("created_at", "status_changed_at"):
            where += f" AND {column} IS NOT NULL"
        op.create_index(
            f"ix_tickets_automation_{column}",
            "tickets",
            ["status_category", column, "id"],
            unique=False,
            postgresql_where=sa.text(where),
        )
    connection = op.get_bind()

    def default_status(category: str) -> int | None:
        return connection.scalar(
            sa.text(
                "SELECT id FROM ticket_statuses WHERE category = :category AND is_default"
            ).bindparams(category=category)
        )

    for position, default in enumerate(
        _defaults(default_status("solved"), default_status("closed"))
    ):
        connection.execute(
            sa.text(
                "INSERT INTO automations (title, position, is_active, rule) "
                "VALUES (:title, :position, :active, CAST(:rule AS jsonb))"
            ).bindparams(
                title=default["title"],
                position=position,
                active=default["active"],
                rule=json.dumps(default["rule"]),
            )
        )


def downgrade() -> None:
    for column in TIME_INDEXES:
        op.drop_index(f"ix_tickets_automation_{column}", table_name="tickets")
    op.drop_column("tickets", "last_agent_reply_at")
    op.drop_column("tickets", "last_requester_reply_at")
    op.drop_index(op.f("ix_automation_firings_ticket_id"), table_name="automation_firings")
    op.drop_table("automation_firings")
    op.drop_index(
        "ix_automations_position_id",
        table_name="automations",
        postgresql_where=sa.text("is_active"),
    )
    op.drop_table("automations")

"""Triggers: admin-written rules the ticket pipeline runs, and the trigger set's version.

``trigger_set_versions`` has exactly one row; every change to ``triggers`` sets it to the next
value of ``trigger_set_version_seq`` in the same transaction, so a process caches the compiled
triggers under that number. A sequence, not ``version + 1``: a rolled-back bump never hands
its number to different content later.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 04:45:00.000000
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ACKNOWLEDGE = {
    "conditions": {
        "all": [
            {"field": "update_type", "operator": "is", "value": "created"},
            {"field": "actor_role", "operator": "is", "value": "customer"},
        ],
        "any": [],
    },
    "actions": [{"action": "notify", "recipient": "requester", "template": "acknowledgement"}],
}


def upgrade() -> None:
    op.create_table(
        "triggers",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triggers")),
    )
    op.create_index(
        "ix_triggers_position_id",
        "triggers",
        ["position", "id"],
        unique=False,
        postgresql_where=sa.text("is_active"),
    )
    op.create_table(
        "trigger_set_versions",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_trigger_set_versions_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_set_versions")),
    )
    op.execute("CREATE SEQUENCE trigger_set_version_seq START WITH 2")
    op.execute("INSERT INTO trigger_set_versions (id, version) VALUES (1, 1)")
    # The instant acknowledgement, as a trigger admins can edit, deactivate or reorder.
    op.execute(
        sa.text(
            "INSERT INTO triggers (title, description, position, is_active, rule) "
            "VALUES (:title, :description, 0, true, CAST(:rule AS jsonb))"
        ).bindparams(
            title="Acknowledge new requests",
            description="Tells a customer who opens a request that we got it, with its "
            "number and, when an SLA applies, when to expect the first reply and the "
            "resolution. Mail from robots (auto-replies, lists, bounces) and mailboxes with "
            "acknowledgements off get none.",
            rule=json.dumps(ACKNOWLEDGE),
        )
    )


def downgrade() -> None:
    op.drop_table("trigger_set_versions")
    op.execute("DROP SEQUENCE trigger_set_version_seq")
    op.drop_index(
        "ix_triggers_position_id", table_name="triggers", postgresql_where=sa.text("is_active")
    )
    op.drop_table("triggers")

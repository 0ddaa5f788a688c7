"""Indexes for the ticket list sorts of issue #16 (``tickets/sorting.py``).

- ``-priority`` lists older tickets first within a priority: its order is
  ``(-priority_rank, id)``, one direction, so the cursor is a row comparison this index
  answers (``(priority_rank, id)`` serves ``priority``).
- ``status`` and ``-status``: the category's place in the lifecycle (new … closed), as
  ``ticket_status_rank``, an immutable SQL function: the planner inlines it in queries and
  in index expressions alike, so the indexes match, and the schema comparison reads a plain
  call back.
- ``due_at``: only tickets with a due date are listed in that sort, so a partial index.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29 14:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

# Written beside other branches' 0023s; the merge re-points ``down_revision``.
revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_tickets_neg_priority_rank_id": "((- priority_rank), id)",
    "ix_tickets_status_rank_id": "(ticket_status_rank(status_category), id)",
    "ix_tickets_neg_status_rank_id": "((- ticket_status_rank(status_category)), id)",
    "ix_tickets_due_at_id": "(due_at, id) WHERE due_at IS NOT NULL",
}


def upgrade() -> None:
    op.execute(
        "CREATE FUNCTION ticket_status_rank(category varchar) RETURNS integer "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        "RETURN CASE category WHEN 'new' THEN 0 WHEN 'open' THEN 1 WHEN 'pending' THEN 2 "
        "WHEN 'on_hold' THEN 3 WHEN 'solved' THEN 4 WHEN 'closed' THEN 5 END"
    )
    for name, definition in _INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON tickets {definition}")


def downgrade() -> None:
    for name in reversed(_INDEXES):
        op.execute(f"DROP INDEX {name}")
    op.execute("DROP FUNCTION ticket_status_rank(varchar)")

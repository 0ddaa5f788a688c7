"""System notes: a comment the service writes itself (a rule's note, a timer's) has no author.

Downgrading gives such notes to the first active admin, since the column becomes required
again; a database without an admin keeps the column nullable instead of failing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("ticket_comments", "author_id", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    connection = op.get_bind()
    admin = connection.scalar(
        sa.text("SELECT id FROM users WHERE role = 'admin' AND is_active ORDER BY id LIMIT 1")
    )
    orphans = connection.scalar(
        sa.text("SELECT count(*) FROM ticket_comments WHERE author_id IS NULL")
    )
    if orphans and admin is None:
        return
    if orphans:
        connection.execute(
            sa.text("UPDATE ticket_comments SET author_id = :admin WHERE author_id IS NULL"),
            {"admin": admin},
        )
    op.alter_column("ticket_comments", "author_id", existing_type=sa.BigInteger(), nullable=False)

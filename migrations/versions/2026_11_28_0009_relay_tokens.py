"""Relay tokens: a token with acts_for_requesters may write comments on behalf of a ticket's
requester (or a customer copied on it), so a relay's customer messages count as the
customer's. Existing tokens keep no such right.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "api_tokens",
        sa.Column("acts_for_requesters", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("api_tokens", "acts_for_requesters")

"""Token lifecycle and login throttling: api_tokens gain an expiry and a display prefix;
login_throttles records failed password logins per account and per client address.

Tokens issued before this revision keep no prefix (only a hash of the secret was stored) and
never expire, as before. Downgrading drops the expiry: tokens that had one become unlimited
again, so revoke them first if that matters.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True)))
    op.add_column("api_tokens", sa.Column("prefix", sa.String(length=16)))
    op.create_table(
        "login_throttles",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "scope IN ('account', 'address')", name=op.f("ck_login_throttles_scope")
        ),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_login_throttles")),
    )
    op.create_index(
        "ix_login_throttles_last_failure_at", "login_throttles", ["last_failure_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_login_throttles_last_failure_at", table_name="login_throttles")
    op.drop_table("login_throttles")
    op.drop_column("api_tokens", "prefix")
    op.drop_column("api_tokens", "expires_at")

"""Web form submissions: the public form's per-address budget and its spent form tokens.

- ``web_form_submissions``: one row per request sent through ``POST /v1/public/requests``
  (a ticket created, a honeypot caught, or a sender dropped), with the SHA-256 of the
  client's rate-limit key, the digest of the signed form token it spent (unique: a token
  works once) and the ticket it opened. Indexed by (address, created_at) for the budget and
  by created_at for pruning.
- Imported tickets need no column: ``tickets.external_id`` (unique) exists since 0002, and
  ``via = 'import'`` needs no change (``via`` has no CHECK constraint).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 11:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written after 0017 while 0018 and 0019 were being written elsewhere; the merge re-points
# ``down_revision`` at whichever of them comes last.
revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_form_submissions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("address", sa.LargeBinary(length=32), nullable=False),
        sa.Column("form_token_digest", sa.LargeBinary(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('created', 'honeypot', 'dropped')",
            name=op.f("ck_web_form_submissions_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_web_form_submissions_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_form_submissions")),
        sa.UniqueConstraint(
            "form_token_digest", name=op.f("uq_web_form_submissions_form_token_digest")
        ),
    )
    op.create_index(
        "ix_web_form_submissions_address_created_at",
        "web_form_submissions",
        ["address", "created_at"],
    )
    op.create_index("ix_web_form_submissions_created_at", "web_form_submissions", ["created_at"])


def downgrade() -> None:
    op.drop_table("web_form_submissions")

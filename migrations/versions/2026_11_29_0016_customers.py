"""Customers and satisfaction (products and assets are not built yet).

- ``satisfaction_ratings``: one row per solved cycle of a ticket (named by the ticket's
  ``solved_at``), offered with a rating link (its SHA-256 only) and, once rated, its score;
  partial indexes (…, rated_at, id) over rated rows for the ratings list's filters.
- ``tickets.satisfaction_score``: the latest rating, on the ticket for staff views and rules.
- ``users.external_id`` (unique): another system's id for the user, what upserts match on.
- ``ix_events_user_id``: a user's created/updated events, their audit trail.
- Customer search (``GET /v1/users?q=``): prefix (``text_pattern_ops``) and trigram (GIN)
  indexes on the lower-cased user name and on identity values (pg_trgm exists since 0003).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATED = sa.text("score IS NOT NULL")
RATING_INDEXES = {
    "ix_satisfaction_ratings_rated_at_id": ["rated_at", "id"],
    "ix_satisfaction_ratings_assignee_id_rated_at": ["assignee_id", "rated_at", "id"],
    "ix_satisfaction_ratings_group_id_rated_at": ["group_id", "rated_at", "id"],
    "ix_satisfaction_ratings_score_rated_at": ["score", "rated_at", "id"],
}


USER_EVENTS_INDEX = (
    "CREATE INDEX ix_events_user_id ON events "
    "(((coalesce(data ->> 'user_id', data -> 'user' ->> 'id'))::bigint)) "
    "WHERE type IN ('user.created', 'user.updated')"
)


def upgrade() -> None:
    op.execute(USER_EVENTS_INDEX)
    op.add_column("users", sa.Column("external_id", sa.String(length=255), nullable=True))
    op.create_unique_constraint(op.f("uq_users_external_id"), "users", ["external_id"])
    op.execute("CREATE INDEX ix_users_name_prefix ON users (lower(name) text_pattern_ops)")
    op.execute("CREATE INDEX ix_users_name_trgm ON users USING gin (lower(name) gin_trgm_ops)")
    op.create_index(
        "ix_user_identities_value_prefix",
        "user_identities",
        ["value"],
        postgresql_ops={"value": "text_pattern_ops"},
    )
    op.create_index(
        "ix_user_identities_value_trgm",
        "user_identities",
        ["value"],
        postgresql_using="gin",
        postgresql_ops={"value": "gin_trgm_ops"},
    )
    op.add_column("tickets", sa.Column("satisfaction_score", sa.String(length=4), nullable=True))
    op.create_table(
        "satisfaction_ratings",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("solved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("group_id", sa.BigInteger(), nullable=True),
        sa.Column("token_hash", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.String(length=4), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "score IS NULL OR score IN ('good', 'bad')", name=op.f("ck_satisfaction_ratings_score")
        ),
        sa.CheckConstraint(
            "reason IS NULL OR reason IN ('not_resolved', 'too_slow', 'unhelpful', "
            "'unfriendly', 'other')",
            name=op.f("ck_satisfaction_ratings_reason"),
        ),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 1 AND 5", name=op.f("ck_satisfaction_ratings_rating")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_satisfaction_ratings_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_satisfaction_ratings_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_satisfaction_ratings_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_ratings")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_satisfaction_ratings_token_hash")),
        sa.UniqueConstraint("ticket_id", "solved_at", name="uq_satisfaction_ratings_ticket_cycle"),
    )
    for name, columns in RATING_INDEXES.items():
        op.create_index(name, "satisfaction_ratings", columns, postgresql_where=RATED)


def downgrade() -> None:
    for name in RATING_INDEXES:
        op.drop_index(name, table_name="satisfaction_ratings", postgresql_where=RATED)
    op.drop_table("satisfaction_ratings")
    op.drop_column("tickets", "satisfaction_score")
    op.drop_index("ix_user_identities_value_trgm", table_name="user_identities")
    op.drop_index("ix_user_identities_value_prefix", table_name="user_identities")
    op.drop_index("ix_users_name_trgm", table_name="users")
    op.drop_index("ix_users_name_prefix", table_name="users")
    op.drop_constraint(op.f("uq_users_external_id"), "users", type_="unique")
    op.drop_column("users", "external_id")
    op.drop_index("ix_events_user_id", table_name="events")

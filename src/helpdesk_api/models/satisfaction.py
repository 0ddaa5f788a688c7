"""Satisfaction (CSAT) ratings: one row per solved cycle of a ticket."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin


class SatisfactionScore(StrEnum):
    good = "good"
    bad = "bad"


class SatisfactionReason(StrEnum):
    """Why a rating is what it is: a fixed list, so reports can count them."""

    not_resolved = "not_resolved"
    too_slow = "too_slow"
    unhelpful = "unhelpful"
    unfriendly = "unfriendly"
    other = "other"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


_RATED = text("score IS NOT NULL")


class SatisfactionRating(IdMixin, Base):
    """A ticket's solved cycle, offered for rating and, once the requester rates, rated.

    A cycle is named by the ticket's ``solved_at`` when it was solved: reopening clears it
    and solving again sets a new one, so each resolution gets a row of its own. ``score``
    is NULL while the rating is only offered. The link's token is kept as a SHA-256 digest
    (it is a random 256-bit secret); the requester is the ticket's (merges move tickets, so
    ratings follow them without a copy of their own).
    """

    __tablename__ = "satisfaction_ratings"
    __table_args__ = (
        UniqueConstraint("ticket_id", "solved_at", name="uq_satisfaction_ratings_ticket_cycle"),
        CheckConstraint(f"score IS NULL OR {_in('score', SatisfactionScore)}", name="score"),
        CheckConstraint(f"reason IS NULL OR {_in('reason', SatisfactionReason)}", name="reason"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        # The list's filters, each with its order (rated_at, id); rated rows only.
        Index("ix_satisfaction_ratings_rated_at_id", "rated_at", "id", postgresql_where=_RATED),
        Index(
            "ix_satisfaction_ratings_assignee_id_rated_at",
            "assignee_id",
            "rated_at",
            "id",
            postgresql_where=_RATED,
        ),
        Index(
            "ix_satisfaction_ratings_group_id_rated_at",
            "group_id",
            "rated_at",
            "id",
            postgresql_where=_RATED,
        ),
        Index(
            "ix_satisfaction_ratings_score_rated_at",
            "score",
            "rated_at",
            "id",
            postgresql_where=_RATED,
        ),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    solved_at: Mapped[datetime]
    # Who solved it and where, when it was offered or rated: what the rating is about.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    token_hash: Mapped[bytes | None] = mapped_column(unique=True)
    expires_at: Mapped[datetime | None]
    score: Mapped[str | None] = mapped_column(String(4))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    reason: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    offered_at: Mapped[datetime]
    rated_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]

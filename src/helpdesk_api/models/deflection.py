"""The bot's answers: articles offered at once on a new ticket, and what the requester said."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin


class DeflectionState(StrEnum):
    offered = "offered"  # waiting for the requester's answer
    accepted = "accepted"  # "this solved it": the ticket was solved via bot
    rejected = "rejected"  # "it did not": the ticket stays with the agents


class KbDeflection(IdMixin, Base):
    """One bot reply. The link's token is a random 256-bit secret kept only as its SHA-256
    digest, as for rating links; it answers once."""

    __tablename__ = "kb_deflections"
    __table_args__ = (
        CheckConstraint(
            "state IN ({})".format(", ".join(repr(s.value) for s in DeflectionState)),
            name="state",
        ),
        # Reports read by time: the list's keyset (offered_at, id) and counts in a range.
        Index("ix_kb_deflections_offered_at_id", "offered_at", "id"),
        Index("ix_kb_deflections_ticket_id", "ticket_id", "id"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_comments.id", ondelete="SET NULL")
    )
    # Null: the web form.
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("messaging_channels.id", ondelete="SET NULL")
    )
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    locale: Mapped[str] = mapped_column(String(35))
    article_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    state: Mapped[str] = mapped_column(String(20), default=DeflectionState.offered)
    # How the answer came: "link" (POST /v1/public/deflections/{token}) or "keyword".
    answered_by: Mapped[str | None] = mapped_column(String(20))
    offered_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]

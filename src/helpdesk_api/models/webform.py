from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin


class WebFormSubmission(IdMixin, Base):
    """One request sent through the public web form, accepted or caught: what the
    per-address budget counts, and which signed form tokens were spent (each works once).

    Rows older than the budget's window and the tokens' lifetime are deleted as new ones
    arrive; the address is a SHA-256 of the rate-limit key, never the address itself.
    """

    __tablename__ = "web_form_submissions"
    __table_args__ = (
        CheckConstraint("outcome IN ('created', 'honeypot', 'dropped')", name="outcome"),
        Index("ix_web_form_submissions_address_created_at", "address", "created_at"),
        Index("ix_web_form_submissions_created_at", "created_at"),
    )

    address: Mapped[bytes] = mapped_column(LargeBinary(32))
    form_token_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    outcome: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

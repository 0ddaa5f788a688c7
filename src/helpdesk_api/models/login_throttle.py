from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base


class LoginThrottle(Base):
    """Failed password logins per account (the e-mail as typed, known or not) and per client
    address, kept in PostgreSQL so every API process and a restart see the same back-off."""

    __tablename__ = "login_throttles"
    __table_args__ = (
        CheckConstraint("scope IN ('account', 'address')", name="scope"),
        Index("ix_login_throttles_last_failure_at", "last_failure_at"),
    )

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]

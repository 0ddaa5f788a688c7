from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text, false, text, true
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin, TimestampMixin


class StatusCategory(StrEnum):
    new = "new"
    open = "open"
    pending = "pending"
    on_hold = "on_hold"
    solved = "solved"
    closed = "closed"


STATUS_CATEGORIES_SQL = "'new', 'open', 'pending', 'on_hold', 'solved', 'closed'"


class TicketStatus(IdMixin, TimestampMixin, Base):
    """An admin-defined status; the category drives the lifecycle, the labels are for people."""

    __tablename__ = "ticket_statuses"
    __table_args__ = (
        CheckConstraint(f"category IN ({STATUS_CATEGORIES_SQL})", name="category"),
        CheckConstraint("NOT is_default OR is_active", name="default_is_active"),
        Index(
            "uq_ticket_statuses_default_per_category",
            "category",
            unique=True,
            postgresql_where=text("is_default"),
        ),
    )

    category: Mapped[str] = mapped_column(String(20))
    agent_label: Mapped[str] = mapped_column(String(100))
    customer_label: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(default=False, server_default=false())
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Tell the requester by e-mail when a ticket moves into this status.
    notify_requester: Mapped[bool] = mapped_column(default=False, server_default=false())
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class PriorityMatrixCell(Base):
    """Impact × urgency → priority, editable by admins (ITIL's matrix by default)."""

    __tablename__ = "priority_matrix"
    __table_args__ = (
        CheckConstraint("impact IN ('low', 'medium', 'high')", name="impact"),
        CheckConstraint("urgency IN ('low', 'medium', 'high')", name="urgency"),
        CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')", name="priority"),
    )

    impact: Mapped[str] = mapped_column(String(10), primary_key=True)
    urgency: Mapped[str] = mapped_column(String(10), primary_key=True)
    priority: Mapped[str] = mapped_column(String(10))

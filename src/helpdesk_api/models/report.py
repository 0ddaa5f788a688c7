"""What reports read: per-ticket metrics kept as tickets change, and daily backlog counts."""

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin


class TicketMetrics(Base):
    """One row per ticket, kept by the ticket pipeline (``reports.tracking``) in the writing
    transaction. Durations are minutes: calendar time, and business time of the ticket's SLA
    calendar (NULL while the ticket has no SLA policy). Waits count finished stretches of a
    status category; the one the ticket is in now is counted when it leaves it."""

    __tablename__ = "ticket_metrics"
    __table_args__ = (
        # Reports range over when things happened; each with the ticket id for an index-only
        # join back to the ticket's dimensions.
        Index("ix_ticket_metrics_solved_at", "solved_at", "ticket_id",
              postgresql_where=text("solved_at IS NOT NULL")),
        Index("ix_ticket_metrics_first_reply_at", "first_reply_at", "ticket_id",
              postgresql_where=text("first_reply_at IS NOT NULL")),
        Index("ix_ticket_metrics_left_backlog_at", "left_backlog_at", "ticket_id",
              postgresql_where=text("left_backlog_at IS NOT NULL")),
    )  # fmt: skip

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="SET NULL")
    )
    # Where the fold stands: the category the ticket is in and since when.
    status_category: Mapped[str] = mapped_column(String(20))
    category_since: Mapped[datetime]
    replies: Mapped[int] = mapped_column(default=0, server_default="0")
    # Public agent replies when the ticket was last solved: 1 is a one-touch resolution.
    replies_at_solve: Mapped[int | None]
    reopens: Mapped[int] = mapped_column(default=0, server_default="0")
    assignee_changes: Mapped[int] = mapped_column(default=0, server_default="0")
    group_changes: Mapped[int] = mapped_column(default=0, server_default="0")
    first_assigned_at: Mapped[datetime | None]
    first_reply_at: Mapped[datetime | None]
    solved_at: Mapped[datetime | None]  # the latest solve; NULL once reopened
    closed_at: Mapped[datetime | None]
    # When it left the open backlog (solved, or closed without a solve: a merged source).
    left_backlog_at: Mapped[datetime | None]
    first_reply_minutes: Mapped[float | None] = mapped_column(Float)
    first_reply_business_minutes: Mapped[float | None] = mapped_column(Float)
    full_resolution_minutes: Mapped[float | None] = mapped_column(Float)
    full_resolution_business_minutes: Mapped[float | None] = mapped_column(Float)
    agent_wait_minutes: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    agent_wait_business_minutes: Mapped[float | None] = mapped_column(Float)
    requester_wait_minutes: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    requester_wait_business_minutes: Mapped[float | None] = mapped_column(Float)
    on_hold_minutes: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    on_hold_business_minutes: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime]


class BacklogSnapshot(IdMixin, Base):
    """Open tickets at the end of a day (UTC), by status category, group and priority,
    written once a day by the worker (``reports.snapshots``)."""

    __tablename__ = "backlog_snapshots"
    __table_args__ = (Index("ix_backlog_snapshots_day", "day"),)

    day: Mapped[date] = mapped_column(Date)
    status_category: Mapped[str] = mapped_column(String(20))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    priority: Mapped[str] = mapped_column(String(10))
    tickets: Mapped[int]
    taken_at: Mapped[datetime]

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Interval,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin, TimestampMixin


class SlaMetric(StrEnum):
    first_reply = "first_reply"
    next_reply = "next_reply"
    periodic_update = "periodic_update"
    resolution = "resolution"


class SlaMetricStatus(StrEnum):
    active = "active"
    paused = "paused"
    achieved = "achieved"
    breached = "breached"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class BusinessCalendar(IdMixin, TimestampMixin, Base):
    """Opening hours in an IANA zone plus holidays; ``always_open`` ignores both."""

    __tablename__ = "business_calendars"

    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    always_open: Mapped[bool] = mapped_column(default=False, server_default=false())
    # [{"weekday": 1, "start": "09:00", "end": "17:00"}], local wall-clock times.
    hours: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # [{"date": "2026-12-25", "name": "Christmas"}], local dates.
    holidays: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class SlaPolicy(IdMixin, TimestampMixin, Base):
    """Ordered by ``position``: the first active policy whose conditions match applies."""

    __tablename__ = "sla_policies"
    __table_args__ = (Index("ix_sla_policies_position_id", "position", "id"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"))
    # {"priority": [...], "group_id": [...], ...}; a missing or empty list matches anything.
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class SlaTarget(IdMixin, Base):
    __tablename__ = "sla_targets"
    __table_args__ = (
        UniqueConstraint("policy_id", "priority", "metric", name="uq_sla_targets_policy_metric"),
        CheckConstraint(_in("metric", SlaMetric), name="metric"),
        CheckConstraint("minutes > 0", name="minutes"),
    )

    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id", ondelete="CASCADE"))
    priority: Mapped[str] = mapped_column(String(10))
    metric: Mapped[str] = mapped_column(String(20))
    minutes: Mapped[int]
    business_hours: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Status categories during which the clock stops.
    pause_on: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)


class TicketSla(Base):
    """The policy applied to a ticket and why, so the ticket's SLA can explain itself."""

    __tablename__ = "ticket_slas"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id"))
    # [{"field": "priority", "values": ["urgent"], "matched": ["urgent"]}]
    matched: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    applied_at: Mapped[datetime]


class TicketSlaMetric(IdMixin, Base):
    """One cycle of one metric's clock on one ticket (``next_reply`` and ``periodic_update``
    run a new cycle per exchange). Every time is stored, so a restart changes nothing."""

    __tablename__ = "ticket_sla_metrics"
    __table_args__ = (
        UniqueConstraint("ticket_id", "metric", "cycle", name="uq_ticket_sla_metrics_cycle"),
        CheckConstraint(_in("metric", SlaMetric), name="metric"),
        CheckConstraint(_in("status", SlaMetricStatus), name="status"),
        # The worker's queue: the next moment each metric needs it, found by index range scan.
        Index(
            "ix_ticket_sla_metrics_due_at", "due_at", postgresql_where=text("due_at IS NOT NULL")
        ),
        # `sla_status=at_risk`: running metrics whose warning point has passed.
        Index(
            "ix_ticket_sla_metrics_warning_at",
            "warning_at",
            postgresql_where=text("status = 'active'"),
        ),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(20))
    cycle: Mapped[int] = mapped_column(default=1, server_default="1")
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id"))
    target_minutes: Mapped[int]
    business_hours: Mapped[bool]
    pause_on: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    status: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime]
    paused_at: Mapped[datetime | None]
    # Clock time (business time for business-hours targets) not counted because of pauses.
    paused_total: Mapped[timedelta] = mapped_column(Interval, server_default=text("'0'"))
    breach_at: Mapped[datetime | None]  # NULL while paused
    warning_at: Mapped[datetime | None]
    achieved_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    warned: Mapped[bool] = mapped_column(default=False, server_default=false())
    breach_notified: Mapped[bool] = mapped_column(default=False, server_default=false())
    # When the worker must next look at this row (warning, then breach); NULL: never.
    due_at: Mapped[datetime | None]

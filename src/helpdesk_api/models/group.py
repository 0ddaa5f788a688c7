from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false, func, text, true
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin, TimestampMixin


class RoutingMode(StrEnum):
    """How a group's new work finds an agent (``routing``)."""

    manual = "manual"  # nobody is picked: agents take tickets from the queue
    round_robin = "round_robin"  # the eligible member routed to least recently
    least_busy = "least_busy"  # the eligible member with the fewest open tickets


class Group(IdMixin, TimestampMixin, Base):
    """A team and its queue: tickets are routed to groups, agents belong to groups."""

    __tablename__ = "groups"
    __table_args__ = (
        Index("uq_groups_lower_name", text("lower(name)"), unique=True),
        CheckConstraint(
            "routing_mode IN ('manual', 'round_robin', 'least_busy')", name="routing_mode"
        ),
        CheckConstraint(
            "routing_max_open_per_agent IS NULL OR routing_max_open_per_agent > 0",
            name="routing_max_open_per_agent",
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Routing: the group's ``routing`` object in the API (see helpdesk_api.routing).
    routing_mode: Mapped[str] = mapped_column(
        String(20), default=RoutingMode.manual, server_default=RoutingMode.manual.value
    )
    routing_respect_availability: Mapped[bool] = mapped_column(default=True, server_default=true())
    routing_max_open_per_agent: Mapped[int | None]
    routing_match_language: Mapped[bool] = mapped_column(default=False, server_default=false())
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class GroupMembership(Base):
    __tablename__ = "group_memberships"
    __table_args__ = (Index("ix_group_memberships_user_id", "user_id", "group_id"),)

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Round robin's cursor: the turn (``routing_turn_seq``, ever increasing) at which routing
    # last gave this member a ticket of this group. The eligible member with the lowest turn
    # (never routed to: first) is next. A sequence, not a time: routers serialised by their
    # locks take turns in lock order, whatever time their requests started.
    last_routed_turn: Mapped[int | None]

"""Views: saved ticket lists (an agent's queues and tab badges).

``conditions`` holds validated ``views.conditions.ViewConditions`` dumped to JSON and
``columns`` the ticket fields a UI shows; models import no domain, so ``views.service``
validates both when it writes them.
"""

from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin, TimestampMixin


class ViewVisibility(StrEnum):
    personal = "personal"  # its owner's only
    group = "group"  # the members of one group
    shared = "shared"  # every agent


class View(IdMixin, TimestampMixin, Base):
    __tablename__ = "views"
    __table_args__ = (
        CheckConstraint("visibility IN ('personal', 'group', 'shared')", name="visibility"),
        CheckConstraint("(visibility = 'group') = (group_id IS NOT NULL)", name="group_id"),
        CheckConstraint("(visibility = 'personal') = (owner_id IS NOT NULL)", name="owner_id"),
        Index("ix_views_position_id", "position", "id"),
        Index("ix_views_owner_id", "owner_id", postgresql_where=text("owner_id IS NOT NULL")),
        Index("ix_views_group_id", "group_id", postgresql_where=text("group_id IS NOT NULL")),
    )

    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    visibility: Mapped[str] = mapped_column(String(20))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB)
    sort: Mapped[str] = mapped_column(String(30))
    columns: Mapped[list[str]] = mapped_column(JSONB)
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

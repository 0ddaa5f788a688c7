"""Macros: an agent's canned response and ticket changes, applied in one click.

``actions`` holds validated ``automation.actions.Action`` items dumped to JSON, and ``comment``
the comment's templates (``{body_template, public, translations: {locale: body_template}}``);
models import no domain, so ``macros.service`` validates both when it writes them.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin


class MacroVisibility(StrEnum):
    personal = "personal"  # its owner's only
    group = "group"  # the members of one group
    shared = "shared"  # every agent


class Macro(IdMixin, Base):
    __tablename__ = "macros"
    __table_args__ = (
        CheckConstraint("visibility IN ('personal', 'group', 'shared')", name="visibility"),
        CheckConstraint("(visibility = 'group') = (group_id IS NOT NULL)", name="group_id"),
        CheckConstraint("(visibility = 'personal') = (owner_id IS NOT NULL)", name="owner_id"),
        # The picker's search: ILIKE '%words%' on the title, answered by a trigram index.
        Index(
            "ix_macros_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
        # The two list orders (keyset): by title, and most used first.
        Index("ix_macros_title_id", "title", "id"),
        Index("ix_macros_usage_count_id", text("usage_count DESC"), text("id DESC")),
        Index("ix_macros_owner_id", "owner_id", postgresql_where=text("owner_id IS NOT NULL")),
        Index("ix_macros_group_id", "group_id", postgresql_where=text("group_id IS NOT NULL")),
    )

    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    visibility: Mapped[str] = mapped_column(String(20))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    comment: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Counted when applied (not on preview), by an UPDATE that leaves ``version`` alone:
    # an agent's use is not an edit, and must not make an admin's If-Match stale.
    usage_count: Mapped[int] = mapped_column(default=0, server_default="0")
    last_used_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

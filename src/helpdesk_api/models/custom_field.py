"""Custom fields: admin-defined attributes of tickets, users and organisations.

One table for the three kinds (``entity``), so their definitions, validation and history are
one code path. Values live on the resource itself as ``custom_fields`` (JSONB ``{key:
value}``); a definition is never deleted, only deactivated, so stored values stay readable.
Dropdown and multiselect values store the option's ``value``, never its title: renaming an
option changes no ticket.
"""

from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint, false, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin, TimestampMixin


class FieldEntity(StrEnum):
    ticket = "ticket"
    user = "user"
    organization = "organization"


class CustomFieldType(StrEnum):
    text = "text"
    textarea = "textarea"
    integer = "integer"
    decimal = "decimal"
    date = "date"
    checkbox = "checkbox"
    dropdown = "dropdown"
    multiselect = "multiselect"
    regex = "regex"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


ENTITY_CHECK = _in("entity", FieldEntity)
TYPE_CHECK = _in("type", CustomFieldType)


class CustomField(IdMixin, TimestampMixin, Base):
    __tablename__ = "custom_fields"
    __table_args__ = (
        CheckConstraint(ENTITY_CHECK, name="entity"),
        CheckConstraint(TYPE_CHECK, name="type"),
        UniqueConstraint("entity", "key", name="uq_custom_fields_entity_key"),
        Index("ix_custom_fields_entity_position_id", "entity", "position", "id"),
    )

    entity: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(20))
    # [{value, title}] for dropdown and multiselect; [] otherwise.
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    pattern: Mapped[str | None] = mapped_column(Text)  # regex fields: what a value must match
    # Status categories a ticket may enter only with a value (tickets only).
    required_for: Mapped[list[str]] = mapped_column(JSONB, default=list)
    agent_only: Mapped[bool] = mapped_column(default=False, server_default=false())
    customer_title: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, false, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin, TimestampMixin


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        Index("uq_organizations_lower_name", text("lower(name)"), unique=True),
        Index("ix_organizations_domains", "domains", postgresql_using="gin"),
        Index("ix_organizations_account_manager_id", "account_manager_id"),
    )

    name: Mapped[str] = mapped_column(String(200))
    # Members see each other's tickets when set (a company's shared support history).
    shared_tickets: Mapped[bool] = mapped_column(default=False, server_default=false())
    # E-mail domains whose new customers join this organisation automatically.
    domains: Mapped[list[str]] = mapped_column(
        ARRAY(String(253)), default=list, server_default="{}"
    )
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list, server_default="{}")
    # ``{key: value}`` of the custom fields defined for this kind (helpdesk_api.fields).
    custom_fields: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    notes: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The agent who looks after this (VIP) organisation: routing prefers them for its tickets
    # in the groups they belong to, when they are available and below capacity. Staff-only.
    # (users name their organisation too: use_alter breaks the cycle for table ordering.)
    account_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True)
    )
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

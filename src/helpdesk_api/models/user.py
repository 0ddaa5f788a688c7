from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk_api.models.base import Base, IdMixin, TimestampMixin


class Role(StrEnum):
    admin = "admin"
    agent = "agent"
    light_agent = "light_agent"
    customer = "customer"


STAFF_ROLES = frozenset({Role.admin, Role.agent, Role.light_agent})
# Who may be assigned tickets (and so routed to, and hold skills and an availability).
ASSIGNABLE_ROLES = frozenset({Role.admin, Role.agent})


class Availability(StrEnum):
    """An agent's presence, set by the agent (``PUT /v1/me/availability``)."""

    online = "online"  # takes routed work
    away = "away"  # signed in, not taking new work (a break, a meeting)
    offline = "offline"  # not working


class TicketAccess(StrEnum):
    all = "all"
    groups = "groups"


class IdentityKind(StrEnum):
    email = "email"
    phone = "phone"
    telegram = "telegram"
    twitter = "twitter"
    facebook = "facebook"
    whatsapp = "whatsapp"
    external = "external"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'agent', 'light_agent', 'customer')", name="role"),
        CheckConstraint("ticket_access IN ('all', 'groups')", name="ticket_access"),
        CheckConstraint("availability IN ('online', 'away', 'offline')", name="availability"),
        Index("ix_users_role_id", "role", "id"),
        Index("ix_users_organization_id", "organization_id"),
        # Finding customers by name (GET /v1/users?q=): a prefix from the pattern index, a
        # misspelling from the trigram one, both on the lower-cased name.
        Index("ix_users_name_prefix", text("lower(name) text_pattern_ops")),
        Index("ix_users_name_trgm", text("lower(name) gin_trgm_ops"), postgresql_using="gin"),
    )

    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    password_hash: Mapped[str | None] = mapped_column(Text)
    ticket_access: Mapped[str] = mapped_column(
        String(10), default=TicketAccess.all, server_default=TicketAccess.all.value
    )
    locale: Mapped[str | None] = mapped_column(String(35))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Staff's choice of notices by e-mail, by notification kind; absent means the default.
    notification_settings: Mapped[dict[str, bool]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    notes: Mapped[str | None] = mapped_column(Text)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    # Segments such as "vip": SLA policies and routing rules match on them.
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list, server_default="{}")
    # ``{key: value}`` of the custom fields defined for this kind (helpdesk_api.fields).
    custom_fields: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    # Staff-only routing facts of agents: what they can handle ("lang:it", "product:x",
    # "tier:2") and whether they take routed work now.
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list, server_default="{}")
    availability: Mapped[str] = mapped_column(
        String(10), default=Availability.offline, server_default=Availability.offline.value
    )
    availability_changed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The user's id in another system (a CRM, a shop), unique: what syncs upsert by.
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)

    identities: Mapped[list["UserIdentity"]] = relationship(
        back_populates="user", lazy="raise", order_by="UserIdentity.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class UserIdentity(IdMixin, Base):
    """One way to reach a person: the same customer on e-mail and Telegram is one user."""

    __tablename__ = "user_identities"
    __table_args__ = (
        UniqueConstraint("kind", "value", name="uq_user_identities_kind_value"),
        Index("ix_user_identities_user_id", "user_id"),
        # Any identity value by prefix or by likeness, whatever its kind (GET /v1/users?q=).
        Index(
            "ix_user_identities_value_prefix", "value", postgresql_ops={"value": "text_pattern_ops"}
        ),
        Index(
            "ix_user_identities_value_trgm",
            "value",
            postgresql_using="gin",
            postgresql_ops={"value": "gin_trgm_ops"},
        ),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    # Normalised on write (e-mail lower-cased), so uniqueness is case-insensitive.
    value: Mapped[str] = mapped_column(String(320))
    is_primary: Mapped[bool] = mapped_column(default=False, server_default=false())
    verified: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    user: Mapped[User] = relationship(back_populates="identities", lazy="raise")


class ApiToken(IdMixin, Base):
    """Bearer tokens are random 256-bit secrets, so a SHA-256 digest is a safe, indexable store."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[bytes] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(100), default="api")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Written at most once a minute per token (core.auth), so listings show it roughly.
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    # The first characters of the secret, so people can tell their tokens apart in a list;
    # NULL for tokens issued before it was kept and for a chosen bootstrap token.
    prefix: Mapped[str | None] = mapped_column(String(16))
    # A relay's token (a mail or chat gateway) may write comments on behalf of a ticket's
    # customers, so their follow-ups count as the customer's, not as agent replies.
    acts_for_requesters: Mapped[bool] = mapped_column(default=False, server_default=false())

"""Every ORM class, imported here so metadata is complete for Alembic and mappers resolve."""

from helpdesk_api.models.base import Base
from helpdesk_api.models.event import Event
from helpdesk_api.models.idempotency import IdempotencyKey
from helpdesk_api.models.user import (
    STAFF_ROLES,
    ApiToken,
    IdentityKind,
    Role,
    TicketAccess,
    User,
    UserIdentity,
)

__all__ = [
    "STAFF_ROLES",
    "ApiToken",
    "Base",
    "Event",
    "IdempotencyKey",
    "IdentityKind",
    "Role",
    "TicketAccess",
    "User",
    "UserIdentity",
]

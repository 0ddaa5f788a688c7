"""Who is calling: bearer tokens, the principal, and role requirements as dependencies."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import ARRAY, BigInteger, bindparam, case, func, literal, or_, select, update

from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB
from helpdesk_api.core.errors import Forbidden, Unauthorized
from helpdesk_api.models import ApiToken, GroupMembership, Organization, Role, User

TOKEN_PREFIX = "hd_"
# Writing last_used_at on every request would turn every read into a write: it is written
# only when the value read with the token is older than this, and the UPDATE re-checks that,
# so concurrent requests on one token write it once.
_LAST_USED_RESOLUTION = timedelta(minutes=1)

_GROUP_IDS = (
    select(func.coalesce(func.array_agg(GroupMembership.group_id), literal([], ARRAY(BigInteger))))
    .where(GroupMembership.user_id == User.id)
    .scalar_subquery()
    .label("group_ids")
)

# Built once: constructing a statement of this size costs more than running it.
_PRINCIPAL_BY_TOKEN = (
    select(
        ApiToken.id,
        ApiToken.last_used_at,
        ApiToken.expires_at,
        ApiToken.acts_for_requesters,
        User.id.label("user_id"),
        User.role,
        User.name,
        User.ticket_access,
        _GROUP_IDS,
        case((Organization.shared_tickets, Organization.id)).label("shared_organization_id"),
    )
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(Organization, Organization.id == User.organization_id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.is_active.is_(True),
    )
)

bearer_scheme = HTTPBearer(auto_error=False, description="An API token: `Bearer hd_…`")


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    role: Role
    name: str
    ticket_access: str
    token_id: int
    # Read with the token, so visibility filters carry constants PostgreSQL can plan with
    # (its statistics tell a group of 100 tickets from one of 300,000; a subquery hides that).
    group_ids: tuple[int, ...] = ()
    shared_organization_id: int | None = None
    # Tokens created with this token are capped at it (users.tokens).
    token_expires_at: datetime | None = None
    # The token may write comments on behalf of a ticket's customers (a relay's token).
    acts_for_requesters: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role != Role.customer

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def is_agent(self) -> bool:
        """Full agents (and admins): may write public replies and change tickets."""
        return self.role in (Role.admin, Role.agent)


async def get_principal(
    request: Request,
    session: DB,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    now: Now,
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    token_hash = hash_token(credentials.credentials)
    row = (await session.execute(_PRINCIPAL_BY_TOKEN, {"token_hash": token_hash})).one_or_none()
    if row is None:
        raise Unauthorized("The bearer token is not valid, or has been revoked.")
    # Checked here rather than in the statement, so the client learns why.
    if row.expires_at is not None and row.expires_at <= now:
        expired = row.expires_at.isoformat().replace("+00:00", "Z")
        raise Unauthorized(f"The bearer token expired at {expired}.")
    stale_before = now - _LAST_USED_RESOLUTION
    if row.last_used_at is None or row.last_used_at < stale_before:
        await session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == row.id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < stale_before),
            )
            .values(last_used_at=now)
        )
    principal = Principal(
        user_id=row.user_id,
        role=Role(row.role),
        name=row.name,
        ticket_access=row.ticket_access,
        token_id=row.id,
        group_ids=tuple(row.group_ids),
        shared_organization_id=row.shared_organization_id,
        token_expires_at=row.expires_at,
        acts_for_requesters=row.acts_for_requesters,
    )
    request.state.principal = principal
    return principal


def _require(*roles: Role) -> object:
    allowed = frozenset(roles)

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"This action needs the role {' or '.join(sorted(allowed))}; "
                f"your token has the role {principal.role}."
            )
        return principal

    return Depends(check)


Authenticated = Annotated[Principal, Depends(get_principal)]
Staff = Annotated[Principal, _require(Role.admin, Role.agent, Role.light_agent)]
Agent = Annotated[Principal, _require(Role.admin, Role.agent)]
Admin = Annotated[Principal, _require(Role.admin)]

"""API tokens: issue, list, revoke. Never commits: the request path does.

Lifecycle rules (the README documents them for clients):
- an explicit ``expires_at`` lies in the future and at most the configured lifetime ahead;
  none means the token does not expire;
- a token created with a token never outlives it: its expiry is capped at the caller's;
- revoking a token leaves the tokens created with it alone (they are separate credentials,
  listed and revocable one by one), while a password change or reset, or deactivating the
  user, revokes every token of the user (but the one that made the change, if it is theirs).
"""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import TOKEN_PREFIX, Principal, generate_token, hash_token
from helpdesk_api.core.errors import Forbidden, InvalidInput, NotFound
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.models import STAFF_ROLES, ApiToken, User
from helpdesk_api.users.schemas import TokenCreate, TokenPage, TokenRead

# "hd_" and 7 characters of the secret: enough to tell tokens apart at a glance; the ~250 bits
# left unrevealed keep it unguessable.
_SHOWN_CHARACTERS = len(TOKEN_PREFIX) + 7


def display_prefix(token: str) -> str | None:
    # Chosen secrets (the bootstrap token) may be short: reveal nothing of those.
    if not token.startswith(TOKEN_PREFIX) or len(token) < 40:
        return None
    return token[:_SHOWN_CHARACTERS]


def token_expiry(
    requested: datetime | None,
    *,
    now: datetime,
    max_lifetime: timedelta,
    parent_expires_at: datetime | None,
    loc: tuple[str, ...] = ("body", "expires_at"),
) -> datetime | None:
    if requested is not None:
        if requested <= now:
            raise InvalidInput("expires_at must be in the future.", loc=loc, type="in_past")
        if requested > now + max_lifetime:
            raise InvalidInput(
                f"expires_at may be at most {max_lifetime.days} days ahead.",
                loc=loc,
                type="too_far_ahead",
            )
    if parent_expires_at is not None and (requested is None or requested > parent_expires_at):
        return parent_expires_at
    return requested


async def issue_token(
    session: AsyncSession,
    user_id: int,
    name: str,
    *,
    expires_at: datetime | None = None,
    acts_for_requesters: bool = False,
) -> tuple[ApiToken, str]:
    token = generate_token()
    row = ApiToken(
        user_id=user_id,
        token_hash=hash_token(token),
        name=name,
        prefix=display_prefix(token),
        expires_at=expires_at,
        acts_for_requesters=acts_for_requesters,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row, attribute_names=["created_at"])
    return row, token


async def create_token(
    session: AsyncSession,
    principal: Principal,
    user: User,
    data: TokenCreate,
    *,
    now: datetime,
    max_lifetime: timedelta,
) -> tuple[ApiToken, str]:
    if principal.user_id != user.id and not principal.is_admin:
        raise Forbidden("Only admins may create tokens for other users.")
    if not user.is_active:
        raise Forbidden(f"User {user.id} is deactivated; reactivate them first.")
    if data.acts_for_requesters:
        if not principal.is_admin:
            raise Forbidden("Only admins may grant acts_for_requesters.")
        if user.role not in STAFF_ROLES:
            raise InvalidInput(
                "acts_for_requesters is for a staff user's token (a relay's service account), "
                "not a customer's.",
                loc=("body", "acts_for_requesters"),
            )
    expires_at = token_expiry(
        data.expires_at,
        now=now,
        max_lifetime=max_lifetime,
        parent_expires_at=principal.token_expires_at,
    )
    return await issue_token(
        session, user.id, data.name, expires_at=expires_at,
        acts_for_requesters=data.acts_for_requesters,
    )  # fmt: skip


async def revoke_tokens(
    session: AsyncSession, user_id: int, *, now: datetime, keep_token_id: int | None = None
) -> None:
    statement = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    if keep_token_id is not None:
        statement = statement.where(ApiToken.id != keep_token_id)
    await session.execute(statement.values(revoked_at=now))


def _live(user_id: int, now: datetime) -> list[ColumnElement[bool]]:
    return [
        ApiToken.user_id == user_id,
        ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
    ]


def to_token_read(row: ApiToken) -> TokenRead:
    return TokenRead(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        acts_for_requesters=row.acts_for_requesters,
    )


async def list_tokens(
    session: AsyncSession, user_id: int, *, now: datetime, limit: int, cursor: str | None
) -> TokenPage:
    """The user's live tokens (neither revoked nor expired), oldest first."""
    statement = select(ApiToken).where(*_live(user_id, now))
    rows, next_cursor = await paginate(
        session, statement, keys=[SortKey(ApiToken.id, lambda t: t.id)], limit=limit, cursor=cursor
    )
    return TokenPage(data=[to_token_read(row) for row in rows], next_cursor=next_cursor)


async def revoke_token(
    session: AsyncSession, user_id: int, token_id: int, *, now: datetime
) -> None:
    revoked = await session.scalar(
        update(ApiToken)
        .where(ApiToken.id == token_id, *_live(user_id, now))
        .values(revoked_at=now)
        .returning(ApiToken.id)
    )
    if revoked is None:
        # Someone else's token, a revoked or an expired one: all "not found", never "forbidden".
        raise NotFound(f"User {user_id} has no live token {token_id}.")

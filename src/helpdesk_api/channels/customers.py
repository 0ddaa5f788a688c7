"""The customer behind a sender's identity: found by (kind, value), or made on first contact."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.errors import Conflict
from helpdesk_api.models import IdentityKind, Role, User
from helpdesk_api.users.identities import normalize_identity
from helpdesk_api.users.schemas import IdentityCreate, UserCreate
from helpdesk_api.users.service import create_user, find_user_by_identity

NAME_MAX = 200


async def lock_identity(session: AsyncSession, channel_id: int, kind: str, value: str) -> None:
    """One message of a sender on a channel at a time: two first messages at once must make
    one customer and one conversation, not two."""
    key = f"channel:{channel_id}:{kind}:{value}"
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


def normalized(kind: IdentityKind, value: str) -> str:
    """The identity as stored (phone digits, lower-cased handles); a value that is not one of
    its kind is a 422 at ``body.sender.value``."""
    return normalize_identity(kind, value, loc=("body", "sender", "value"))


async def customer_for(
    session: AsyncSession, kind: IdentityKind, value: str, name: str | None, *, via: str
) -> User:
    existing = await find_user_by_identity(session, kind, value)
    if existing is None:
        data = UserCreate(
            name=(name or value)[:NAME_MAX],
            role=Role.customer,
            identities=[IdentityCreate(kind=kind, value=value)],
        )
        try:
            async with session.begin_nested():
                existing = await create_user(session, None, data, via=via)
        except Conflict:
            # Claimed by a concurrent message on another channel: theirs is the customer.
            existing = await find_user_by_identity(session, kind, value)
            if existing is None:
                raise
    if existing.role != Role.customer:
        raise Conflict(
            f"The {kind} identity {value!r} belongs to a staff user; channels carry customers' "
            "messages only."
        )
    if not existing.is_active:
        raise Conflict(f"The {kind} identity {value!r} belongs to a deactivated user.")
    return existing

"""Adding and removing a user's identities (each change is a ``user.updated`` event)."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, NotFound
from helpdesk_api.models import IdentityKind, User, UserIdentity
from helpdesk_api.users.identities import normalize_identity
from helpdesk_api.users.service import USERS, ensure_identities_free


async def add_identity(
    session: AsyncSession, actor: Principal, user: User, kind: IdentityKind, value: str
) -> UserIdentity:
    normalized = normalize_identity(kind, value, loc=("body", "value"))
    await ensure_identities_free(session, [(kind, normalized, ("body", "value"))])
    has_kind = any(i.kind == kind for i in user.identities)
    identity = UserIdentity(user_id=user.id, kind=kind, value=normalized, is_primary=not has_kind)
    session.add(identity)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"The {kind} identity {normalized!r} was claimed just now.") from exc
    change = {"field": "identities", "from": None, "to": f"{kind}:{normalized}"}
    await USERS.record_updated(
        session, actor_id=actor.user_id, resource_id=user.id, changes=[change]
    )
    return identity


async def remove_identity(
    session: AsyncSession, actor: Principal, user: User, identity_id: int
) -> None:
    identity = next((i for i in user.identities if i.id == identity_id), None)
    if identity is None:
        raise NotFound(f"User {user.id} has no identity {identity_id}.")
    await session.delete(identity)
    await session.flush()
    change = {"field": "identities", "from": f"{identity.kind}:{identity.value}", "to": None}
    await USERS.record_updated(
        session, actor_id=actor.user_id, resource_id=user.id, changes=[change]
    )

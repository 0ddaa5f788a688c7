"""Create or update a customer by external id or e-mail: what CRMs and shops sync with.

Everything is checked before anything is written, so a refused upsert changes nothing: an
external id and an e-mail that name two different users, an identity another user holds, a
match that is staff (staff records are the admins'), or a user whose external id differs.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput
from helpdesk_api.models import IdentityKind, Role, User, UserIdentity
from helpdesk_api.users import identity_changes, service
from helpdesk_api.users.identities import normalize_identity
from helpdesk_api.users.schemas import UserCreate, UserUpdate, UserUpsert

_PROFILE = ("name", "locale", "time_zone", "notes", "organization_id", "tags", "external_id")


def _wanted(data: UserUpsert) -> list[tuple[IdentityKind, str]]:
    wanted: list[tuple[IdentityKind, str]] = []
    if data.email is not None:
        email = normalize_identity(IdentityKind.email, data.email, loc=("body", "email"))
        wanted.append((IdentityKind.email, email))
    for n, identity in enumerate(data.identities):
        loc: tuple[str | int, ...] = ("body", "identities", n, "value")
        wanted.append((identity.kind, normalize_identity(identity.kind, identity.value, loc=loc)))
    return list(dict.fromkeys(wanted))


async def _owners(
    session: AsyncSession, wanted: list[tuple[IdentityKind, str]]
) -> dict[tuple[str, str], int]:
    owners: dict[tuple[str, str], int] = {}
    for kind, value in wanted:
        owner = await session.scalar(
            select(UserIdentity.user_id).where(
                UserIdentity.kind == kind, UserIdentity.value == value
            )
        )
        if owner is not None:
            owners[(kind, value)] = owner
    return owners


async def upsert_customer(
    session: AsyncSession, principal: Principal, data: UserUpsert
) -> tuple[User, bool]:
    """The customer, and whether it was created."""
    wanted = _wanted(data)
    owners = await _owners(session, wanted)
    by_external = (
        await session.scalar(select(User.id).where(User.external_id == data.external_id))
        if data.external_id is not None
        else None
    )
    # The e-mail, when given, is the first identity wanted.
    by_email = owners.get(wanted[0]) if data.email is not None else None
    if by_external is not None and by_email is not None and by_external != by_email:
        raise Conflict(
            f"external_id {data.external_id!r} names user {by_external}, but {data.email} is "
            f"user {by_email}'s e-mail: merge them first, or send one of the two."
        )
    user_id = by_external or by_email
    taken = {key: owner for key, owner in owners.items() if owner != user_id}
    if taken:
        (kind, value), owner = next(iter(taken.items()))
        raise Conflict(f"The {kind} identity {value!r} belongs to user {owner}.")
    if user_id is None:
        return await _create(session, principal, data), True
    user = await service.get_user(session, user_id, for_update=True)
    if user.role != Role.customer:
        raise Conflict(f"User {user.id} is staff: upserts change customers only.")
    if data.external_id is not None and user.external_id not in (None, data.external_id):
        raise Conflict(
            f"User {user.id} has external_id {user.external_id!r}, not {data.external_id!r}."
        )
    fields = {name: getattr(data, name) for name in _PROFILE if name in data.model_fields_set}
    if fields:
        user = await service.update_user(session, principal, user, UserUpdate(**fields))
    held = {(i.kind, i.value) for i in user.identities}
    added = False
    for kind, value in wanted:
        if (kind, value) not in held:
            await identity_changes.add_identity(session, principal, user, kind, value)
            added = True
    if added:
        await session.refresh(user, attribute_names=["identities"])
    return user, False


async def _create(session: AsyncSession, principal: Principal, data: UserUpsert) -> User:
    if data.name is None:
        raise InvalidInput(
            "No customer has this external_id or e-mail: a name is needed to create one.",
            loc=("body", "name"),
        )
    fields = data.model_dump(exclude_unset=True, exclude={"identities"})
    fields["identities"] = data.identities
    return await service.create_user(session, principal, UserCreate(role=Role.customer, **fields))

"""Rules for users, identities and API tokens. Never commits: the request path does."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.resource import AdminResource, field_changes, touch
from helpdesk_api.core.tags import normalize_tags
from helpdesk_api.fields.values import changed_values
from helpdesk_api.models import (
    ASSIGNABLE_ROLES,
    STAFF_ROLES,
    Availability,
    FieldEntity,
    GroupMembership,
    IdentityKind,
    Organization,
    Role,
    TicketAccess,
    User,
    UserIdentity,
)
from helpdesk_api.users.identities import normalize_identity
from helpdesk_api.users.passwords import hash_password
from helpdesk_api.users.schemas import IdentityRead, MeRead, UserCreate, UserRead, UserUpdate
from helpdesk_api.users.tokens import revoke_tokens

_ORGANIZATION_LOC = ("body", "organization_id")
_FIELDS = (
    "name",
    "role",
    "is_active",
    "ticket_access",
    "locale",
    "time_zone",
    "notes",
    "organization_id",
    "tags",
    "notification_settings",
    "skills",
    "availability",
    "external_id",
)

USERS = AdminResource("user", "/v1/users", User, "User", options=(selectinload(User.identities),))


def primary_email(user: User) -> str | None:
    emails = [i for i in user.identities if i.kind == IdentityKind.email]
    primary = next((i for i in emails if i.is_primary), emails[0] if emails else None)
    return primary.value if primary else None


def to_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        name=user.name,
        email=primary_email(user),
        role=Role(user.role),
        is_active=user.is_active,
        ticket_access=TicketAccess(user.ticket_access),
        locale=user.locale,
        time_zone=user.time_zone,
        notes=user.notes,
        organization_id=user.organization_id,
        tags=list(user.tags),
        notification_settings=dict(user.notification_settings or {}),
        skills=list(user.skills),
        availability=Availability(user.availability),
        availability_changed_at=user.availability_changed_at,
        identities=[IdentityRead.model_validate(i) for i in user.identities],
        external_id=user.external_id,
        custom_fields=dict(user.custom_fields),
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def to_me(user: User) -> MeRead:
    """The user as they see themselves: no notes, no tags (those are staff-only)."""
    return MeRead(
        id=user.id,
        name=user.name,
        email=primary_email(user),
        role=Role(user.role),
        locale=user.locale,
        time_zone=user.time_zone,
        identities=[IdentityRead.model_validate(i) for i in user.identities],
        organization_id=user.organization_id,
    )


async def get_user(session: AsyncSession, user_id: int, *, for_update: bool = False) -> User:
    return await USERS.get(session, user_id, for_update=for_update)


async def find_user_by_identity(
    session: AsyncSession, kind: IdentityKind, value: str
) -> User | None:
    normalized = normalize_identity(kind, value, loc=("body", kind.value))
    return await session.scalar(
        select(User)
        .join(UserIdentity, UserIdentity.user_id == User.id)
        .where(UserIdentity.kind == kind, UserIdentity.value == normalized)
    )


async def ensure_external_id_free(
    session: AsyncSession, external_id: str | None, user_id: int | None = None
) -> None:
    if external_id is None:
        return
    owner = await session.scalar(select(User.id).where(User.external_id == external_id))
    if owner is not None and owner != user_id:
        raise Conflict(f"external_id {external_id!r} already names user {owner}.")


async def ensure_identities_free(
    session: AsyncSession, wanted: list[tuple[IdentityKind, str, tuple[str | int, ...]]]
) -> None:
    for kind, value, _ in wanted:
        owner = await session.scalar(
            select(UserIdentity.user_id).where(
                UserIdentity.kind == kind, UserIdentity.value == value
            )
        )
        if owner is not None:
            raise Conflict(f"The {kind} identity {value!r} already belongs to user {owner}.")
    seen: set[tuple[str, str]] = set()
    for kind, value, _ in wanted:
        if (kind, value) in seen:
            raise InvalidInput(f"The {kind} identity {value!r} is listed twice.", loc=("body",))
        seen.add((kind, value))


async def create_user(
    session: AsyncSession, actor: Principal | None, data: UserCreate, *, via: str = "api"
) -> User:
    wanted: list[tuple[IdentityKind, str, tuple[str | int, ...]]] = []
    if data.email is not None:
        email = normalize_identity(IdentityKind.email, data.email, loc=("body", "email"))
        wanted.append((IdentityKind.email, email, ("body", "email")))
    for n, identity in enumerate(data.identities):
        loc: tuple[str | int, ...] = ("body", "identities", n, "value")
        wanted.append(
            (identity.kind, normalize_identity(identity.kind, identity.value, loc=loc), loc)
        )
    await ensure_identities_free(session, wanted)
    tags = normalize_tags(data.tags, loc=("body", "tags"))
    if data.skills and data.role not in ASSIGNABLE_ROLES:
        raise _not_assignable(data.role, "skills")
    organization_id = await _organization_for_new_user(session, data, wanted)
    custom_fields: dict[str, Any] = {}
    if data.custom_fields:
        custom_fields, _ = await changed_values(session, FieldEntity.user, {}, data.custom_fields)

    user = User(
        name=data.name,
        role=data.role,
        password_hash=await hash_password(data.password) if data.password else None,
        ticket_access=data.ticket_access,
        locale=data.locale,
        time_zone=data.time_zone,
        notes=data.notes,
        organization_id=organization_id,
        tags=tags,
        skills=data.skills,
        external_id=data.external_id,
        custom_fields=custom_fields,
    )
    await ensure_external_id_free(session, data.external_id)
    session.add(user)
    first_of_kind: set[str] = set()
    for kind, value, _ in wanted:
        user_identity = UserIdentity(kind=kind, value=value, is_primary=kind not in first_of_kind)
        first_of_kind.add(kind)
        user_identity.user = user
        session.add(user_identity)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Lost a race with a concurrent request claiming the same identity.
        raise Conflict("One of the identities was claimed by another user just now.") from exc
    created = await get_user(session, user.id)
    await USERS.record_created(
        session, actor_id=actor.user_id if actor else None, via=via, read=to_read(created)
    )
    return created


async def find_or_create_customer(
    session: AsyncSession,
    email: str,
    name: str,
    *,
    actor: Principal | None,
    via: str = "api",
    locale: str | None = None,
) -> User:
    """The user with this e-mail, or a new customer with it (first contact by any channel).

    A savepoint: if a concurrent request creates the same customer first, only this attempt
    is undone and theirs is used. An unusable address is an ``InvalidInput``.
    """
    existing = await find_user_by_identity(session, IdentityKind.email, email)
    if existing is not None:
        return existing
    data = UserCreate(name=name, email=email, role=Role.customer, locale=locale)
    try:
        async with session.begin_nested():
            return await create_user(session, actor, data, via=via)
    except Conflict:
        found = await find_user_by_identity(session, IdentityKind.email, email)
        if found is None:
            raise
        return found


async def _organization_for_new_user(
    session: AsyncSession,
    data: UserCreate,
    wanted: list[tuple[IdentityKind, str, tuple[str | int, ...]]],
) -> int | None:
    if data.organization_id is not None:
        if data.role in STAFF_ROLES:
            raise _staff_in_organization()
        await ensure_organization_exists(session, data.organization_id)
        return data.organization_id
    # An explicit null means "no organisation": only a left-out field triggers the domain rule.
    if "organization_id" in data.model_fields_set or data.role in STAFF_ROLES:
        return None
    email = next((value for kind, value, _ in wanted if kind == IdentityKind.email), None)
    if email is None:
        return None
    domain = email.rsplit("@", 1)[1]
    # Organisations keep their domains disjoint; the lowest id settles a race all the same.
    return await session.scalar(
        select(Organization.id)
        .where(Organization.domains.contains([domain]))
        .order_by(Organization.id)
        .limit(1)
    )


def _staff_in_organization() -> InvalidInput:
    return InvalidInput(
        "Staff users (admin, agent, light_agent) cannot belong to an organisation.",
        loc=_ORGANIZATION_LOC,
        type="staff_in_organization",
    )


async def ensure_organization_exists(session: AsyncSession, organization_id: int) -> None:
    found = await session.scalar(select(exists().where(Organization.id == organization_id)))
    if not found:
        raise InvalidInput(
            f"Organization {organization_id} does not exist.",
            loc=_ORGANIZATION_LOC,
            type="unknown_organization",
        )


async def update_user(
    session: AsyncSession, actor: Principal, user: User, data: UserUpdate
) -> User:
    fields = data.model_dump(exclude_unset=True)
    if fields.get("is_active") is False and user.id == actor.user_id:
        raise InvalidInput("You cannot deactivate yourself.", loc=("body", "is_active"))
    if "role" in fields and user.id == actor.user_id and fields["role"] != Role.admin:
        raise InvalidInput("You cannot remove your own admin role.", loc=("body", "role"))
    if "tags" in fields:
        fields["tags"] = normalize_tags(fields["tags"], loc=("body", "tags"))
    if "notification_settings" in fields:
        # Only the keys sent change; a null goes back to the default.
        merged = {**(user.notification_settings or {}), **fields["notification_settings"]}
        fields["notification_settings"] = {k: v for k, v in merged.items() if v is not None}
    await _check_organization_change(session, user, fields)
    _check_routing_fields(user, fields)
    if fields.get("external_id") is not None:
        await ensure_external_id_free(session, fields["external_id"], user.id)
    before = {name: getattr(user, name) for name in _FIELDS}
    # Notes are staff-only and a password is secret: the event says only that they changed.
    changes = field_changes(before, fields, fields=_FIELDS, redacted={"notes"})
    for change in changes:
        setattr(user, change["field"], fields[change["field"]])
    if "custom_fields" in fields:
        values, value_changes = await changed_values(
            session, FieldEntity.user, user.custom_fields, fields["custom_fields"]
        )
        if value_changes:
            user.custom_fields = values
            changes.extend(value_changes)
    if any(c["field"] == "availability" for c in changes):
        user.availability_changed_at = datetime.now(UTC)
    if fields.get("password"):
        user.password_hash = await hash_password(fields["password"])
        changes.append({"field": "password", "from": None, "to": None})
        # Whoever knew the old password may have minted tokens with it: all of them go, but
        # the token making this change when it is the user's own (they stay signed in).
        await revoke_tokens(session, user.id, now=datetime.now(UTC), keep_token_id=actor.token_id)
    if fields.get("email"):
        await _set_primary_email(session, user, fields["email"])
        changes.append({"field": "email", "from": None, "to": fields["email"]})
    if fields.get("is_active") is False:
        await revoke_tokens(session, user.id, now=datetime.now(UTC))
    if fields.get("role") == Role.customer and any(c["field"] == "role" for c in changes):
        await _leave_groups(session, actor, user.id)
    if changes:
        touch(user)
        await session.flush()
        await USERS.record_updated(
            session, actor_id=actor.user_id, resource_id=user.id, changes=changes
        )
    return await get_user(session, user.id)


async def _check_organization_change(
    session: AsyncSession, user: User, fields: dict[str, Any]
) -> None:
    role = fields.get("role", user.role)
    organization_id = fields.get("organization_id", user.organization_id)
    if organization_id is not None and role in STAFF_ROLES:
        if "organization_id" not in fields:
            raise InvalidInput(
                f"User {user.id} belongs to organization {organization_id}; staff cannot. "
                "Set organization_id to null in the same request to make them staff.",
                loc=("body", "role"),
                type="staff_in_organization",
            )
        raise _staff_in_organization()
    if fields.get("organization_id") is not None:
        await ensure_organization_exists(session, fields["organization_id"])


def _not_assignable(role: str, field: str) -> InvalidInput:
    return InvalidInput(
        f"Only agents and admins are routed tickets; a {role} has no {field}.",
        loc=("body", field),
        type="not_assignable",
    )


def _check_routing_fields(user: User, fields: dict[str, Any]) -> None:
    """Skills and availability belong to those who may be assigned tickets: one who stops
    being one loses them (as a customer leaves every group)."""
    role = fields.get("role", user.role)
    if role in ASSIGNABLE_ROLES:
        return
    if fields.get("skills"):
        raise _not_assignable(role, "skills")
    if fields.get("availability", Availability.offline) != Availability.offline:
        raise _not_assignable(role, "availability")
    fields["skills"] = []
    fields["availability"] = Availability.offline


async def _leave_groups(session: AsyncSession, actor: Principal, user_id: int) -> None:
    # Only staff may be group members; a user made a customer leaves every group.
    group_ids = (
        await session.scalars(
            delete(GroupMembership)
            .where(GroupMembership.user_id == user_id)
            .returning(GroupMembership.group_id)
        )
    ).all()
    for group_id in sorted(group_ids):
        await record_event(
            session,
            EventType.group_member_removed,
            actor_id=actor.user_id,
            data={"group_id": group_id, "user_id": user_id},
        )


async def _set_primary_email(session: AsyncSession, user: User, email: str) -> None:
    value = normalize_identity(IdentityKind.email, email, loc=("body", "email"))
    existing = next(
        (i for i in user.identities if i.kind == IdentityKind.email and i.value == value), None
    )
    if existing is None:
        await ensure_identities_free(session, [(IdentityKind.email, value, ("body", "email"))])
        existing = UserIdentity(user_id=user.id, kind=IdentityKind.email, value=value)
        session.add(existing)
    for identity in user.identities:
        if identity.kind == IdentityKind.email:
            identity.is_primary = False
    existing.is_primary = True
    await session.flush()

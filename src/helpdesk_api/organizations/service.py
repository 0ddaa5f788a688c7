"""Rules for organisations. Never commits: the request path does."""

from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput, NotFound
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.core.tags import normalize_tag, normalize_tags
from helpdesk_api.fields.values import changed_values, customer_keys, definitions, for_customer
from helpdesk_api.models import ASSIGNABLE_ROLES, FieldEntity, Organization, Ticket, User
from helpdesk_api.organizations.schemas import (
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
)
from helpdesk_api.users import service as users_service
from helpdesk_api.users.schemas import UserRead

_FIELDS = (
    "name", "shared_tickets", "domains", "tags", "notes", "external_id", "account_manager_id",
)  # fmt: skip

ORGANIZATIONS = AdminResource("organization", "/v1/organizations", Organization, "Organization")


def to_read(
    organization: Organization,
    *,
    staff: bool = True,
    customer_keys: frozenset[str] = frozenset(),
) -> OrganizationRead:
    """``customer_keys``: the fields a customer may read (``present``); staff read all."""
    values = organization.custom_fields
    return OrganizationRead(
        id=organization.id,
        name=organization.name,
        shared_tickets=organization.shared_tickets,
        domains=list(organization.domains),
        tags=list(organization.tags),
        notes=organization.notes if staff else None,
        external_id=organization.external_id,
        account_manager_id=organization.account_manager_id if staff else None,
        custom_fields=dict(values) if staff else for_customer(values, customer_keys),
        created_at=organization.created_at,
        updated_at=organization.updated_at,
    )


async def present(
    session: AsyncSession, organization: Organization, *, staff: bool
) -> OrganizationRead:
    if staff or not organization.custom_fields:
        return to_read(organization, staff=staff)
    keys = customer_keys(await definitions(session, FieldEntity.organization))
    return to_read(organization, staff=False, customer_keys=keys)


def _not_found(organization_id: int) -> NotFound:
    return NotFound(f"Organization {organization_id} does not exist.")


async def get_organization(
    session: AsyncSession, organization_id: int, *, for_update: bool = False
) -> Organization:
    return await ORGANIZATIONS.get(session, organization_id, for_update=for_update)


async def get_visible_organization(
    session: AsyncSession, principal: Principal, organization_id: int
) -> Organization:
    # A customer sees their own organisation only; any other id is "not found".
    if not principal.is_staff:
        own = await session.scalar(select(User.organization_id).where(User.id == principal.user_id))
        if own != organization_id:
            raise _not_found(organization_id)
    return await get_organization(session, organization_id)


async def list_organizations(
    session: AsyncSession,
    *,
    q: str | None,
    tag: str | None,
    external_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Organization], str | None]:
    statement: Select[Any] = select(Organization)
    if q:
        statement = statement.where(
            func.lower(Organization.name).startswith(q.strip().lower(), autoescape=True)
        )
    if tag is not None:
        statement = statement.where(
            Organization.tags.contains([normalize_tag(tag, loc=("query", "tag"))])
        )
    if external_id is not None:
        statement = statement.where(Organization.external_id == external_id)
    return await paginate(
        session,
        statement,
        keys=[SortKey(Organization.id, lambda o: o.id)],
        limit=limit,
        cursor=cursor,
    )


async def _ensure_unique(
    session: AsyncSession, fields: dict[str, Any], *, exclude_id: int | None = None
) -> None:
    """Friendly 409s for the common case; the unique indexes still settle a race."""
    others = select(Organization.id, Organization.name)
    if exclude_id is not None:
        others = others.where(Organization.id != exclude_id)
    if fields.get("name") is not None:
        clash = (
            await session.execute(
                others.where(func.lower(Organization.name) == fields["name"].lower())
            )
        ).first()
        if clash is not None:
            raise Conflict(f"Organization {clash.id} is already named {clash.name!r}.")
    if fields.get("external_id") is not None:
        clash = (
            await session.execute(others.where(Organization.external_id == fields["external_id"]))
        ).first()
        if clash is not None:
            raise Conflict(
                f"Organization {clash.id} already has the external_id {fields['external_id']!r}."
            )
    if fields.get("domains"):
        # Disjoint domains keep the auto-join rule unambiguous.
        row = (
            await session.execute(
                others.add_columns(Organization.domains).where(
                    Organization.domains.overlap(fields["domains"])
                )
            )
        ).first()
        if row is not None:
            taken = sorted(set(row.domains) & set(fields["domains"]))
            raise Conflict(
                f"The domain {', '.join(taken)} already belongs to organization {row.id} "
                f"({row.name!r}); a domain may belong to one organisation only."
            )


def _normalise(fields: dict[str, Any]) -> dict[str, Any]:
    if fields.get("domains") is not None:
        fields["domains"] = list(dict.fromkeys(fields["domains"]))
    if fields.get("tags") is not None:
        fields["tags"] = normalize_tags(fields["tags"], loc=("body", "tags"))
    return fields


async def _check_account_manager(session: AsyncSession, fields: dict[str, Any]) -> None:
    manager_id = fields.get("account_manager_id")
    if manager_id is None:
        return
    # Routing checks again when it routes: a manager deactivated later is simply passed over.
    manager = await session.get(User, manager_id)
    if manager is None or not manager.is_active or manager.role not in ASSIGNABLE_ROLES:
        raise InvalidInput(
            f"User {manager_id} is not an active agent or admin; an account manager must be.",
            loc=("body", "account_manager_id"),
            type="not_assignable",
        )


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Another organisation took this name, external_id or domain just now."
        ) from exc


async def create_organization(
    session: AsyncSession, actor: Principal, data: OrganizationCreate
) -> Organization:
    fields = _normalise(data.model_dump())
    if fields["custom_fields"]:
        fields["custom_fields"], _ = await changed_values(
            session, FieldEntity.organization, {}, fields["custom_fields"]
        )
    await _ensure_unique(session, fields)
    await _check_account_manager(session, fields)
    organization = Organization(**fields)
    session.add(organization)
    await _flush(session)
    await session.refresh(organization)
    await ORGANIZATIONS.record_created(session, actor_id=actor.user_id, read=to_read(organization))
    return organization


async def update_organization(
    session: AsyncSession, actor: Principal, organization: Organization, data: OrganizationUpdate
) -> Organization:
    fields = _normalise(data.model_dump(exclude_unset=True))
    before = {name: getattr(organization, name) for name in _FIELDS}
    changed = {
        name: value for name, value in fields.items() if name in _FIELDS and before[name] != value
    }
    values = organization.custom_fields
    value_changes: list[dict[str, Any]] = []
    if "custom_fields" in fields:
        values, value_changes = await changed_values(
            session, FieldEntity.organization, values, fields["custom_fields"]
        )
    if not changed and not value_changes:
        return organization
    await _ensure_unique(session, changed, exclude_id=organization.id)
    await _check_account_manager(session, changed)
    # Notes are staff-only: the event says only that they changed.
    changes = field_changes(before, changed, redacted={"notes"}) + value_changes
    for name, value in changed.items():
        setattr(organization, name, value)
    if value_changes:
        organization.custom_fields = values
    await _flush(session)
    await session.refresh(organization)
    await ORGANIZATIONS.record_updated(
        session, actor_id=actor.user_id, resource_id=organization.id, changes=changes
    )
    return organization


async def delete_organization(
    session: AsyncSession, actor: Principal, organization: Organization
) -> None:
    # Tickets keep the organisation they were opened under, so their history stays readable.
    referenced = await session.scalar(
        select(exists().where(Ticket.organization_id == organization.id))
    )
    if referenced:
        raise Conflict(
            f"Organization {organization.id} is referenced by tickets and cannot be deleted; "
            "it keeps their visibility history."
        )
    organization_id, name = organization.id, organization.name
    await session.delete(organization)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"Organization {organization_id} was given a ticket just now and cannot be deleted."
        ) from exc
    await record_event(
        session,
        EventType.organization_deleted,
        actor_id=actor.user_id,
        data={"organization_id": organization_id, "name": name},
    )


async def list_members(
    session: AsyncSession, organization_id: int, *, limit: int, cursor: str | None
) -> tuple[list[UserRead], str | None]:
    await get_organization(session, organization_id)
    users, next_cursor = await paginate(
        session,
        select(User)
        .where(User.organization_id == organization_id)
        .options(selectinload(User.identities)),
        keys=[SortKey(User.id, lambda u: u.id)],
        limit=limit,
        cursor=cursor,
    )
    return [users_service.to_read(u) for u in users], next_cursor

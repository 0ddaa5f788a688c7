"""``include=``: the users, groups and organisations a page of tickets names, one query per
kind whatever the page's size, filtered to what the caller may see."""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.models import Group, IdentityKind, Organization, User, UserIdentity
from helpdesk_api.tickets.include_schemas import (
    Included,
    IncludedCustomerUser,
    IncludedGroup,
    IncludedOrganization,
    IncludedUser,
)

KINDS = ("users", "groups", "organizations")
_LOC = ("query", "include")
# What each shape shows of a ticket: a customer's shape names neither submitter, assignee
# nor group, so neither do their includes.
_STAFF_USERS = ("requester_id", "submitter_id", "assignee_id")
_CUSTOMER_USERS = ("requester_id",)

_PRIMARY_EMAIL = (
    select(UserIdentity.value)
    .where(UserIdentity.user_id == User.id, UserIdentity.kind == IdentityKind.email)
    .order_by(UserIdentity.is_primary.desc(), UserIdentity.id)
    .limit(1)
    .scalar_subquery()
    .label("email")
)


def parse_include(raw: str | None) -> frozenset[str]:
    if raw is None:
        return frozenset()
    kinds = [part.strip() for part in raw.split(",")]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InvalidInput(
            f"Unknown include {unknown[0]!r}: any of {', '.join(KINDS)}, comma-separated.",
            loc=_LOC,
        )
    return frozenset(kinds)


def _ids(tickets: Iterable[Any], fields: Sequence[str]) -> list[int]:
    found = {getattr(t, f) for t in tickets for f in fields}
    return sorted(i for i in found if i is not None)


async def included(
    session: AsyncSession, principal: Principal, tickets: Sequence[Any], kinds: frozenset[str]
) -> Included:
    """The records ``kinds`` asks for, of ``tickets`` (rows or ORM objects, already the
    caller's visible ones)."""
    result = Included()
    if "users" in kinds:
        result.users = await _users(session, principal, tickets)
    if "groups" in kinds:
        result.groups = await _groups(session, principal, tickets)
    if "organizations" in kinds:
        result.organizations = await _organizations(session, tickets)
    return result


async def _organizations(session: AsyncSession, tickets: Sequence[Any]) -> Any:
    # Both shapes name the organisation, and a name is all this shows of it.
    ids = _ids(tickets, ("organization_id",))
    if not ids:
        return []
    rows = await session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.id.in_(ids))
        .order_by(Organization.id)
    )
    return [IncludedOrganization(id=r.id, name=r.name) for r in rows]


async def _users(session: AsyncSession, principal: Principal, tickets: Sequence[Any]) -> Any:
    if not principal.is_staff:
        ids = _ids(tickets, _CUSTOMER_USERS)
        if not ids:
            return []
        rows = await session.execute(
            select(User.id, User.name).where(User.id.in_(ids)).order_by(User.id)
        )
        return [IncludedCustomerUser(id=r.id, name=r.name) for r in rows]
    ids = _ids(tickets, _STAFF_USERS)
    if not ids:
        return []
    rows = await session.execute(
        select(User.id, User.name, User.role, User.is_active, User.organization_id, _PRIMARY_EMAIL)
        .where(User.id.in_(ids))
        .order_by(User.id)
    )
    return [
        IncludedUser(
            id=r.id,
            name=r.name,
            email=r.email,
            role=r.role,
            is_active=r.is_active,
            organization_id=r.organization_id,
        )
        for r in rows
    ]


async def _groups(session: AsyncSession, principal: Principal, tickets: Sequence[Any]) -> Any:
    ids = _ids(tickets, ("group_id",)) if principal.is_staff else []
    if not ids:
        return []
    rows = await session.execute(
        select(Group.id, Group.name, Group.is_active).where(Group.id.in_(ids)).order_by(Group.id)
    )
    return [IncludedGroup(id=r.id, name=r.name, is_active=r.is_active) for r in rows]

"""Ticket field values on writes: validated by ``fields.values``, audited per key as
``custom_fields.<key>``, and the fields a status category requires checked when a ticket
enters it (through the API; rules and automations are not held to them)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.fields.values import audit_changes, check_required, definitions, merged_values
from helpdesk_api.models import CustomField, FieldEntity, Ticket
from helpdesk_api.tickets.changes import ChangeSet

LOC = ("body", "custom_fields")


async def validated(
    session: AsyncSession, principal: Principal, current: dict[str, Any], given: dict[str, Any]
) -> dict[str, Any]:
    """``current`` with ``given`` applied, or a 422 naming the field."""
    if not given:
        return dict(current)
    fields = await definitions(session, FieldEntity.ticket)
    return merged_values(fields, current, given, customer=not principal.is_staff, loc=LOC)


async def apply_values(
    session: AsyncSession,
    principal: Principal,
    ticket: Ticket,
    given: dict[str, Any],
    changes: ChangeSet,
) -> None:
    before = ticket.custom_fields
    after = await validated(session, principal, before, given)
    for name, old, new in audit_changes(before, after):
        changes.note(name, old, new)
    if after != before:
        ticket.custom_fields = after  # a new dict: the ORM sees the JSONB change


def note_initial(ticket: Ticket, changes: ChangeSet) -> None:
    for name, old, new in audit_changes({}, ticket.custom_fields):
        changes.note(name, old, new)


async def check_entry(
    session: AsyncSession, principal: Principal, category: str, values: dict[str, Any]
) -> None:
    """A 422 when a field required for ``category`` has no value: one query for the fields
    that require it (usually none)."""
    requiring = await session.scalars(
        select(CustomField).where(
            CustomField.entity == FieldEntity.ticket,
            CustomField.is_active,
            CustomField.required_for.contains([category]),
        )
    )
    fields = {f.key: f for f in requiring}
    if fields:
        check_required(fields, values, category, customer=not principal.is_staff, loc=LOC)

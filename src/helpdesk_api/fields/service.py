"""Field definitions as admins manage them. Never commits: the request path does."""

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput, NotFound
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.fields.schemas import (
    CustomFieldCreate,
    CustomFieldRead,
    CustomFieldUpdate,
    FieldOption,
)
from helpdesk_api.models import CustomField, CustomFieldType, FieldEntity

TICKET_FIELDS = AdminResource("ticket_field", "/v1/ticket-fields", CustomField, "Ticket field")
USER_FIELDS = AdminResource("user_field", "/v1/user-fields", CustomField, "User field")
ORGANIZATION_FIELDS = AdminResource(
    "organization_field", "/v1/organization-fields", CustomField, "Organization field"
)
RESOURCES = {
    FieldEntity.ticket: TICKET_FIELDS,
    FieldEntity.user: USER_FIELDS,
    FieldEntity.organization: ORGANIZATION_FIELDS,
}
CHOICES = frozenset({CustomFieldType.dropdown, CustomFieldType.multiselect})


def to_read(field: CustomField) -> CustomFieldRead:
    return CustomFieldRead(
        id=field.id,
        key=field.key,
        title=field.title,
        type=CustomFieldType(field.type),
        options=field.options,
        pattern=field.pattern,
        required_for=field.required_for,
        agent_only=field.agent_only,
        customer_title=field.customer_title,
        position=field.position,
        active=field.is_active,
        created_at=field.created_at,
        updated_at=field.updated_at,
    )


async def get_field(session: AsyncSession, entity: FieldEntity, field_id: int) -> CustomField:
    """One field of this kind; another kind's id is a 404 like an unknown one."""
    field = await session.get(CustomField, field_id)
    if field is None or field.entity != entity:
        raise NotFound(f"{RESOURCES[entity].label} {field_id} does not exist.")
    return field


async def get_for_write(
    session: AsyncSession, entity: FieldEntity, field_id: int, if_match: str | None
) -> CustomField:
    resource = RESOURCES[entity]
    field = await resource.get(session, field_id, for_update=True)
    if field.entity != entity:
        raise NotFound(f"{resource.label} {field_id} does not exist.")
    resource.check_if_match(if_match, field)
    return field


async def list_fields(
    session: AsyncSession,
    entity: FieldEntity,
    *,
    active: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[CustomField], str | None]:
    statement = select(CustomField).where(CustomField.entity == entity)
    if active is not None:
        statement = statement.where(CustomField.is_active.is_(active))
    return await paginate(
        session,
        statement,
        keys=[
            SortKey(CustomField.position, lambda f: f.position),
            SortKey(CustomField.id, lambda f: f.id),
        ],
        limit=limit,
        cursor=cursor,
        ordering=f"{entity}_fields:position,id",
    )


def _check_shape(
    entity: FieldEntity,
    kind: CustomFieldType,
    options: list[FieldOption],
    pattern: str | None,
    required_for: list[Any],
) -> None:
    """422 at the part that does not fit the field's type or kind."""
    if kind in CHOICES and not options:
        raise InvalidInput(f"A {kind} field needs options.", loc=("body", "options"))
    if kind not in CHOICES and options:
        raise InvalidInput(f"A {kind} field takes no options.", loc=("body", "options"))
    seen: set[str] = set()
    for index, option in enumerate(options):
        if option.value in seen:
            raise InvalidInput(
                f"Option value {option.value!r} is listed twice.",
                loc=("body", "options", index, "value"),
            )
        seen.add(option.value)
    if kind is CustomFieldType.regex:
        if pattern is None:
            raise InvalidInput("A regex field needs a pattern.", loc=("body", "pattern"))
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInput(
                f"The pattern is not a regular expression: {exc}.", loc=("body", "pattern")
            ) from None
    elif pattern is not None:
        raise InvalidInput(f"A {kind} field takes no pattern.", loc=("body", "pattern"))
    if entity is not FieldEntity.ticket and required_for:
        raise InvalidInput(
            "required_for applies to ticket fields only.", loc=("body", "required_for")
        )


async def create_field(
    session: AsyncSession, actor: Principal, entity: FieldEntity, data: CustomFieldCreate
) -> CustomField:
    _check_shape(entity, data.type, data.options, data.pattern, data.required_for)
    exists = await session.scalar(
        select(CustomField.id).where(CustomField.entity == entity, CustomField.key == data.key)
    )
    if exists is not None:
        raise Conflict(f"A {entity} field with key {data.key!r} exists (id {exists}).")
    position = data.position
    if position is None:
        last = await session.scalar(
            select(func.max(CustomField.position)).where(CustomField.entity == entity)
        )
        position = 0 if last is None else last + 1
    field = CustomField(
        entity=entity,
        key=data.key,
        title=data.title,
        type=data.type,
        options=[o.model_dump() for o in data.options],
        pattern=data.pattern,
        required_for=[c.value for c in data.required_for],
        agent_only=data.agent_only,
        customer_title=data.customer_title,
        position=position,
        is_active=data.active,
    )
    session.add(field)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"A {entity} field with key {data.key!r} exists.") from exc
    await session.refresh(field)
    await RESOURCES[entity].record_created(session, actor_id=actor.user_id, read=to_read(field))
    return field


_EDITABLE = ("title", "options", "pattern", "required_for", "agent_only", "customer_title",
             "position", "active")  # fmt: skip


def _snapshot(field: CustomField) -> dict[str, Any]:
    read = to_read(field).model_dump(mode="json")
    return {name: read[name] for name in _EDITABLE}


async def update_field(
    session: AsyncSession, actor: Principal, field: CustomField, data: CustomFieldUpdate
) -> CustomField:
    sent = data.model_fields_set
    entity, kind = FieldEntity(field.entity), CustomFieldType(field.type)
    options = (
        data.options
        if "options" in sent
        else [FieldOption.model_validate(o) for o in field.options]
    )
    pattern = data.pattern if "pattern" in sent else field.pattern
    required_for = data.required_for if "required_for" in sent else field.required_for
    _check_shape(entity, kind, options, pattern, required_for)
    before = _snapshot(field)
    if "title" in sent:
        field.title = data.title
    if "options" in sent:
        field.options = [o.model_dump() for o in data.options]
    if "pattern" in sent:
        field.pattern = data.pattern
    if "required_for" in sent:
        field.required_for = [c.value for c in data.required_for]
    if "agent_only" in sent:
        field.agent_only = data.agent_only
    if "customer_title" in sent:
        field.customer_title = data.customer_title
    if "position" in sent:
        field.position = data.position
    if "active" in sent:
        field.is_active = data.active
    changes = field_changes(before, _snapshot(field))
    if changes:
        field.updated_at = func.now()
        await session.flush()
        await session.refresh(field)
        await RESOURCES[entity].record_updated(
            session, actor_id=actor.user_id, resource_id=field.id, changes=changes
        )
    return field

"""Conditions over ``custom_field.<key>`` checked against the ticket field definitions when a
trigger, automation or view is saved: the field must exist and the value fit its type. The
value is stored in the canonical form tickets store (``"12.50"`` → ``"12.5"``), so the engine
and SQL compare plain JSON without knowing the field's type."""

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.automation.conditions import custom_key
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.fields.values import definitions, filter_document
from helpdesk_api.models import CustomField, FieldEntity

C = TypeVar("C", bound=BaseModel)


async def canonical(
    session: AsyncSession, conditions: C, loc: tuple[str | int, ...] = ("body", "conditions")
) -> C:
    """``conditions`` with each custom field condition's value canonical; a 422 at the
    condition's ``field`` or ``value`` when it cannot match."""
    fields: dict[str, CustomField] | None = None
    groups: dict[str, list[Any]] = {}
    for group in ("all", "any"):
        items = list(getattr(conditions, group))
        for index, condition in enumerate(items):
            key = custom_key(condition.field)
            if key is None:
                continue
            if fields is None:
                fields = await definitions(session, FieldEntity.ticket)
            if key not in fields:
                raise InvalidInput(
                    f"There is no ticket field {key!r}.", loc=(*loc, group, index, "field")
                )
            if condition.value is None:
                continue
            document = filter_document(
                fields, key, condition.value, customer=False, loc=(*loc, group, index, "value")
            )
            value = document[key]
            items[index] = condition.model_copy(
                update={"value": value[0] if isinstance(value, list) else value}
            )
        groups[group] = items
    if fields is None:
        return conditions
    return conditions.model_copy(update=groups)

"""Custom field values: the one validation every resource with ``custom_fields`` uses.

Values are stored in the resource's JSONB column in a canonical JSON form, so equality and
containment (``@>``) in SQL and in triggers need no casting: text, textarea, regex and
dropdown as strings, integer as a number, decimal as a normalised string (``"12.5"``: a JSON
number would lose digits), date as ``YYYY-MM-DD``, checkbox as a boolean, multiselect as a
list of option values without repeats.
"""

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.text import is_visible
from helpdesk_api.models import CustomField, CustomFieldType, FieldEntity

T = CustomFieldType
MAX_TEXT = {T.text: 1000, T.regex: 1000, T.textarea: 20_000}
MAX_SELECTED = 100
_BIGINT = 2**63
MAX_DECIMAL_DIGITS = 30


async def definitions(session: AsyncSession, entity: FieldEntity) -> dict[str, CustomField]:
    """Every field of one kind, active or not, by key: one query."""
    rows = await session.scalars(select(CustomField).where(CustomField.entity == entity))
    return {f.key: f for f in rows}


def _text(field: CustomField, value: Any) -> str:
    if not isinstance(value, str) or not is_visible(value):
        raise ValueError("must be a non-blank string")
    if len(value) > MAX_TEXT[CustomFieldType(field.type)]:
        raise ValueError(f"must be at most {MAX_TEXT[CustomFieldType(field.type)]} characters")
    if field.type != T.textarea and ("\n" in value or "\r" in value):
        raise ValueError("must be one line")
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValueError("must not contain control characters")
    if field.type == T.regex and not re.fullmatch(field.pattern or "", value):
        raise ValueError(f"must match {field.pattern}")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and -_BIGINT <= value < _BIGINT:
        return value
    raise ValueError("must be an integer")


def _decimal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a decimal number (a JSON number or a string such as '12.50')")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("must be a decimal number such as '12.50'") from None
    # The exponent is bounded too: "1e999999" has one digit but a million as a plain string.
    if (
        not number.is_finite()
        or len(number.as_tuple().digits) > MAX_DECIMAL_DIGITS
        or abs(number.adjusted()) > MAX_DECIMAL_DIGITS
    ):
        raise ValueError(f"must be a finite number of at most {MAX_DECIMAL_DIGITS} digits")
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _date(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ValueError("must be a date as YYYY-MM-DD")


def _choice(field: CustomField, value: Any) -> str:
    allowed = [o["value"] for o in field.options]
    if isinstance(value, str) and value in allowed:
        return value
    raise ValueError(f"must be one of the options: {', '.join(allowed)}")


def check_value(field: CustomField, value: Any) -> Any:
    """The value as stored, or ValueError saying why it does not fit ``field``."""
    kind = CustomFieldType(field.type)
    if kind in MAX_TEXT:
        return _text(field, value)
    if kind is T.integer:
        return _integer(value)
    if kind is T.decimal:
        return _decimal(value)
    if kind is T.date:
        return _date(value)
    if kind is T.checkbox:
        if isinstance(value, bool):
            return value
        raise ValueError("must be true or false")
    if kind is T.dropdown:
        return _choice(field, value)
    if not isinstance(value, list) or len(value) > MAX_SELECTED:
        raise ValueError(f"must be a list of at most {MAX_SELECTED} options")
    return list(dict.fromkeys(_choice(field, item) for item in value))


def writable(field: CustomField | None, *, customer: bool) -> bool:
    return field is not None and field.is_active and not (customer and field.agent_only)


def merged_values(
    fields: Mapping[str, CustomField],
    current: Mapping[str, Any],
    given: Mapping[str, Any],
    *,
    customer: bool,
    loc: tuple[str | int, ...],
) -> dict[str, Any]:
    """``current`` with ``given`` applied (null clears a value); a 422 at ``loc + (key,)``
    for an unknown, inactive or (for customers) agent-only field, or a value that does not
    fit. Values of other fields, inactive ones included, are kept as stored."""
    values = dict(current)
    for key, value in given.items():
        field = fields.get(key)
        if not writable(field, customer=customer):
            raise InvalidInput(f"There is no active field {key!r}.", loc=(*loc, key))
        assert field is not None
        if value is None:
            values.pop(key, None)
            continue
        try:
            values[key] = check_value(field, value)
        except ValueError as exc:
            raise InvalidInput(f"{key}: {exc}.", loc=(*loc, key)) from None
    return values


def check_required(
    fields: Mapping[str, CustomField],
    values: Mapping[str, Any],
    category: str,
    *,
    customer: bool,
    loc: tuple[str | int, ...],
) -> None:
    """A 422 at the first active field required for ``category`` that has no value."""
    for field in sorted(fields.values(), key=lambda f: (f.position, f.id)):
        if (
            field.is_active
            and category in field.required_for
            and values.get(field.key) in (None, "", [])
            and not (customer and field.agent_only)
        ):
            raise InvalidInput(
                f"{field.key} needs a value before the ticket can become {category}.",
                loc=(*loc, field.key),
                type="required_field",
            )


def audit_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[tuple[str, Any, Any]]:
    """``(custom_fields.<key>, from, to)`` for every value that changed, in key order."""
    return [
        (f"custom_fields.{key}", before.get(key), after.get(key))
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]


async def changed_values(
    session: AsyncSession,
    entity: FieldEntity,
    current: Mapping[str, Any],
    given: Mapping[str, Any],
    *,
    customer: bool = False,
    loc: tuple[str | int, ...] = ("body", "custom_fields"),
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The values after ``given`` and the ``{field: custom_fields.<key>, from, to}`` changes,
    for a resource's update event; a 422 naming the field for a misfit."""
    after = merged_values(
        await definitions(session, entity), current, given, customer=customer, loc=loc
    )
    changes = [
        {"field": n, "from": old, "to": new} for n, old, new in audit_changes(current, after)
    ]
    return after, changes


def customer_keys(fields: Mapping[str, CustomField]) -> frozenset[str]:
    """The keys whose values a customer may read: fields that are not agent-only (an inactive
    one's stored value stays readable)."""
    return frozenset(key for key, field in fields.items() if not field.agent_only)


def for_customer(values: Mapping[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key in keys}


def filter_document(
    fields: Mapping[str, CustomField],
    key: str,
    raw: Any,
    *,
    customer: bool,
    loc: tuple[str | int, ...],
) -> dict[str, Any]:
    """The JSONB document ``{key: value}`` that ``custom_fields @>`` matches for a condition
    "``key`` is ``raw``": a multiselect contains the option; a query string's ``raw`` is
    read as the field's type (``5``, ``true``). A 422 at ``loc`` when it cannot match."""
    field = fields.get(key)
    if field is None or (customer and field.agent_only):
        raise InvalidInput(f"There is no field {key!r}.", loc=loc)
    kind = CustomFieldType(field.type)
    value = raw
    if isinstance(raw, str):
        if kind is T.integer and re.fullmatch(r"-?\d{1,19}", raw):
            value = int(raw)
        elif kind is T.checkbox and raw in ("true", "false"):
            value = raw == "true"
    try:
        if kind is T.multiselect:
            # An option removed since keeps matching the tickets that still hold it.
            if not isinstance(value, str) or not value:
                raise ValueError("must be one option's value")
            return {key: [value]}
        if kind is T.dropdown:
            if not isinstance(value, str) or not value:
                raise ValueError("must be one option's value")
            return {key: value}
        checked = check_value(field, value)
    except ValueError as exc:
        raise InvalidInput(f"{key}: {exc}.", loc=loc) from None
    return {key: checked}

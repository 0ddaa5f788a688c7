"""A view's conditions: the trigger condition language over a ticket at rest, and SQL.

A view asks what a ticket *is*, not how it changed, so it takes the triggers' fields that a
ticket row holds and their operators without ``changed*``. Two values name the caller, so one
shared view serves every agent: ``assignee_id is "me"`` and ``group_id is "mine"`` (in one of
the caller's groups). ``sla_status`` (``breached`` / ``at_risk``) is the ticket list's filter.
``custom_field.<key>`` is a ticket field's value, as in triggers.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic import Field as Attribute
from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from helpdesk_api.automation.candidates import custom_field_filter, ticket_filter
from helpdesk_api.automation.conditions import (
    CHANGES,
    CUSTOM_FIELD_OPERATORS,
    FIELD_SPECS,
    Condition,
    CustomFieldName,
    check_custom_value,
    check_value,
    custom_key,
    one_field_error,
)
from helpdesk_api.automation.fields import Field, Operator
from helpdesk_api.core.auth import Principal
from helpdesk_api.models import Ticket
from helpdesk_api.tickets import SlaStatus, sla_condition


class ViewField(StrEnum):
    status_id = "status_id"
    status_category = "status_category"
    priority = "priority"
    type = "type"
    group_id = "group_id"
    assignee_id = "assignee_id"
    requester_id = "requester_id"
    organization_id = "organization_id"
    tags = "tags"
    satisfaction = "satisfaction"
    sla_status = "sla_status"


ME, MINE = "me", "mine"
_CALLER_VALUES = {ViewField.assignee_id: ME, ViewField.requester_id: ME, ViewField.group_id: MINE}
_EQUALITY = frozenset({Operator.is_, Operator.is_not})
MAX_CONDITIONS = 20


def operators_of(field: ViewField) -> frozenset[Operator]:
    if field is ViewField.sla_status:
        return _EQUALITY
    return FIELD_SPECS[Field(field.value)].operators - CHANGES


class ViewCondition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: Annotated[ViewField | CustomFieldName, one_field_error(ViewField)]
    operator: Operator
    value: Any = Attribute(
        default=None,
        validate_default=True,
        description='`"me"` for `assignee_id` / `requester_id` and `"mine"` for `group_id` '
        "name the caller; `sla_status` takes `breached` or `at_risk`.",
    )

    @field_validator("operator")
    @classmethod
    def _operator_fits_field(cls, operator: Operator, info: ValidationInfo) -> Operator:
        field = info.data.get("field")
        if field is not None and custom_key(field) is not None:
            if operator not in CUSTOM_FIELD_OPERATORS:
                raise ValueError(f"'{field}' takes 'is' or 'is_not', not '{operator}'")
            return operator
        if field is not None and operator not in operators_of(field):
            allowed = ", ".join(sorted(operators_of(field)))
            raise ValueError(f"'{field}' does not take '{operator}'; it takes {allowed}")
        return operator

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: Any, info: ValidationInfo) -> Any:
        field, operator = info.data.get("field"), info.data.get("operator")
        if field is None or operator is None:
            return value
        if custom_key(field) is not None:
            return check_custom_value(value)
        if field is ViewField.sla_status:
            if isinstance(value, str) and value in {s.value for s in SlaStatus}:
                return value
            raise ValueError(f"sla_status is 'breached' or 'at_risk', not {value!r}")
        caller = _CALLER_VALUES.get(field)
        if caller is not None and value == caller:
            if operator not in _EQUALITY:
                raise ValueError(f"'{caller}' goes with 'is' or 'is_not'")
            return value
        return check_value(FIELD_SPECS[Field(field.value)], operator, value)


class ViewConditions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    all: list[ViewCondition] = Attribute(default=[], max_length=MAX_CONDITIONS)
    any: list[ViewCondition] = Attribute(default=[], max_length=MAX_CONDITIONS)


def view_filter(
    conditions: ViewConditions, principal: Principal, now: datetime
) -> ColumnElement[bool]:
    """The tickets the conditions hold for, as the caller sees "me" and "mine" (the view
    is read through the caller's ticket visibility as well)."""
    every = [_condition(c, principal, now) for c in conditions.all]
    some = [_condition(c, principal, now) for c in conditions.any]
    return and_(true(), *every, or_(*some) if some else true())


def _condition(condition: ViewCondition, principal: Principal, now: datetime) -> Any:
    field, operator, value = condition.field, condition.operator, condition.value
    key = custom_key(field)
    if key is not None:
        return custom_field_filter(key, operator, value)
    assert isinstance(field, ViewField)
    if field is ViewField.sla_status:
        holds = sla_condition(SlaStatus(value), now)
        return holds if operator is Operator.is_ else not_(holds)
    if field is ViewField.group_id and value == MINE:
        mine = Ticket.group_id.in_(principal.group_ids) if principal.group_ids else false()
        if operator is Operator.is_:
            return mine
        return or_(Ticket.group_id.is_(None), not_(mine))
    if value == ME:
        value = principal.user_id
    # Validated above: the automation condition is built without validating it again.
    plain = Condition.model_construct(field=Field(field.value), operator=operator, value=value)
    sql = ticket_filter(plain)
    if sql is None:  # every ViewField maps to a column; a new one must say how
        raise AssertionError(f"no SQL for view condition {condition!r}")
    return sql

"""Zendesk's rule for automations: one must undo its own conditions.

An automation acts on every ticket its conditions hold for, every time the worker looks.
One whose actions leave its conditions true would act on the same tickets again and again,
so, as Zendesk does, it is refused when saved unless an action makes an ``all`` condition
false for the ticket it acted on, or an ``all`` condition holds for one hour only
(``hours_since_… is N``). The firing record (once per ticket per period) stops a repeat
regardless; this check is about what the admin meant.

The cases recognised: a status, priority, type, group or assignee condition with an action
that sets another value; a status-bound time field (pending, on hold, solved, status
changed) with a ``set_status``; ``hours_since_updated`` with an action that writes the
ticket; a tag condition with the ``add_tags`` / ``remove_tags`` / ``set_tags`` that breaks it.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from helpdesk_api.automation.actions import (
    Action,
    AddNote,
    AddTags,
    PublicReply,
    RemoveTags,
    SetAssignee,
    SetGroup,
    SetPriority,
    SetStatus,
    SetTags,
    SetType,
)
from helpdesk_api.automation.conditions import Condition
from helpdesk_api.automation.fields import Field, Operator
from helpdesk_api.automation.timing import AutomationRule, TimeCondition, TimeField, TimeOperator
from helpdesk_api.models import PriorityRank

NOT_NULLIFYING = (
    "An automation must undo one of its own `all` conditions, or it would act on the same "
    "tickets over and over: for example `hours_since_pending` with a `set_status` to another "
    "category, `status_category is pending` with a `set_status`, or `tags not_includes x` "
    "with `add_tags x`; or use an `is` time condition, which holds for one hour only."
)

_WRITES = (
    SetStatus,
    SetPriority,
    SetType,
    SetGroup,
    SetAssignee,
    AddTags,
    RemoveTags,
    SetTags,
    AddNote,
    PublicReply,
)
_SETS: dict[Field, tuple[type[Action], str]] = {
    Field.status_id: (SetStatus, "status_id"),
    Field.priority: (SetPriority, "priority"),
    Field.type: (SetType, "type"),
    Field.group_id: (SetGroup, "group_id"),
    Field.assignee_id: (SetAssignee, "assignee_id"),
}


def nullifies(rule: AutomationRule, status_categories: Mapping[int, str]) -> bool:
    """``status_categories``: the category of each status a ``set_status`` names."""
    actions = rule.actions
    for condition in rule.conditions.all:
        if isinstance(condition, TimeCondition):
            if _time_undone(condition, actions, status_categories):
                return True
        elif _undone(condition, actions, status_categories):
            return True
    return False


def _time_undone(
    condition: TimeCondition, actions: Sequence[Action], categories: Mapping[int, str]
) -> bool:
    if condition.operator is TimeOperator.is_:
        return True
    if condition.operator is not TimeOperator.greater_than:
        return False
    field, category = condition.field, condition.anchor.category
    if category is not None:
        return any(
            isinstance(a, SetStatus) and categories.get(a.status_id) != category for a in actions
        )
    if field is TimeField.hours_since_status_changed:
        return any(isinstance(a, SetStatus) for a in actions)
    if field is TimeField.hours_since_updated:
        return any(isinstance(a, _WRITES) for a in actions)
    return False


def _undone(condition: Condition, actions: Sequence[Action], categories: Mapping[int, str]) -> bool:
    field, op, value = condition.field, condition.operator, condition.value
    if not isinstance(field, Field):
        return False  # no action sets a custom field
    if field is Field.tags:
        return any(_breaks_tags(op, frozenset(value), a) for a in actions)
    if field is Field.status_category:
        set_to = [categories.get(a.status_id) for a in actions if isinstance(a, SetStatus)]
    elif field in _SETS:
        kind, attribute = _SETS[field]
        set_to = [getattr(a, attribute) for a in actions if isinstance(a, kind)]
    else:
        return False
    return any(not _holds(field, op, value, after) for after in set_to)


def _holds(field: Field, op: Operator, value: Any, after: Any) -> bool:
    """Whether the condition holds for a ticket whose ``field`` is now ``after``."""
    members = value if isinstance(value, list) else [value]
    match op:
        case Operator.is_ | Operator.in_:
            return after in members
        case Operator.is_not | Operator.not_in:
            return after not in members
        case Operator.less_than | Operator.greater_than if field is Field.priority:
            rank, bound = PriorityRank[after].value, PriorityRank[value].value
            return rank < bound if op is Operator.less_than else rank > bound
    return True  # an operator this check does not know: assume it still holds


def _breaks_tags(op: Operator, tags: frozenset[str], action: Action) -> bool:
    if op is Operator.not_includes:
        added = frozenset(action.tags) if isinstance(action, AddTags | SetTags) else frozenset()
        return not added.isdisjoint(tags)
    if op is Operator.includes_all:
        if isinstance(action, RemoveTags):
            return not tags.isdisjoint(action.tags)
        return isinstance(action, SetTags) and not tags <= frozenset(action.tags)
    if op is Operator.includes_any:
        if isinstance(action, RemoveTags):
            return tags <= frozenset(action.tags)
        return isinstance(action, SetTags) and tags.isdisjoint(action.tags)
    return False

"""Why a rule did or did not match a ticket: condition by condition, expected against actual.

This backs ``POST /v1/triggers/dry-run``: an admin sees which condition failed without
reading the engine, and the explanation uses the same compiled tests the engine runs, so it
cannot disagree with what would really happen.
"""

from dataclasses import dataclass
from typing import Any, Literal

from helpdesk_api.automation.conditions import CompiledCondition, CompiledConditions
from helpdesk_api.automation.facts import TicketFacts
from helpdesk_api.automation.fields import Field, Operator


@dataclass(frozen=True, slots=True)
class ConditionExplanation:
    group: Literal["all", "any"]
    index: int  # within its group, as in the rule: ("conditions", group, index)
    field: Field | str  # a built-in field, or custom_field.<key>
    operator: Operator
    expected: Any  # the condition's value (None for changed / not_changed)
    actual: Any  # the value it looked at; {changed, from, to} for the changed_* operators
    held: bool


@dataclass(frozen=True, slots=True)
class RuleExplanation:
    matched: bool
    all_held: bool  # every ``all`` condition held (true when there are none)
    any_held: bool  # one ``any`` condition held (true when there are none)
    conditions: tuple[ConditionExplanation, ...]


def explain(compiled: CompiledConditions, facts: TicketFacts) -> RuleExplanation:
    """Every condition is evaluated, none short-circuited, so each one is explained."""
    all_part = [_one("all", i, c, facts) for i, c in enumerate(compiled.all)]
    any_part = [_one("any", i, c, facts) for i, c in enumerate(compiled.any)]
    all_held = all(c.held for c in all_part)
    any_held = not any_part or any(c.held for c in any_part)
    return RuleExplanation(
        matched=all_held and any_held,
        all_held=all_held,
        any_held=any_held,
        conditions=(*all_part, *any_part),
    )


def _one(
    group: Literal["all", "any"], index: int, compiled: CompiledCondition, facts: TicketFacts
) -> ConditionExplanation:
    condition = compiled.condition
    return ConditionExplanation(
        group=group,
        index=index,
        field=condition.field,
        operator=condition.operator,
        expected=condition.value,
        actual=compiled.actual(facts),
        held=compiled.test(facts),
    )

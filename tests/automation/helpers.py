"""Facts and rules for the automation tests, with everything but the tested part defaulted."""

from typing import Any

from helpdesk_api.automation.conditions import (
    CompiledConditions,
    RuleConditions,
    compile_conditions,
)
from helpdesk_api.automation.facts import TicketFacts


def facts(**overrides: Any) -> TicketFacts:
    values: dict[str, Any] = {
        "status_id": 1,
        "status_category": "open",
        "priority": "normal",
        "requester_id": 10,
        "via": "api",
    }
    return TicketFacts.of(**{**values, **overrides})


def when(*all_: dict[str, Any], any_: tuple[dict[str, Any], ...] = ()) -> CompiledConditions:
    return compile_conditions(RuleConditions.model_validate({"all": all_, "any": any_}))


def holds(condition: dict[str, Any], **fact_values: Any) -> bool:
    return when(condition)(facts(**fact_values))

"""Time conditions, pure: the SQL range a condition gives its anchor always contains every
anchor for which the exact check (calendar or business hours) holds, so the query never
leaves out a ticket the rule would act on; and the nullifying check's verdicts."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_api.automation.candidates import FALLBACK_CALENDAR
from helpdesk_api.automation.nullifying import nullifies
from helpdesk_api.automation.timing import AutomationRule, TimeCondition
from helpdesk_api.sla.business_time import business_time_between

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # a Wednesday


def _hours(condition: TimeCondition, anchor: datetime) -> float:
    start, end = (NOW, anchor) if condition.anchor.until else (anchor, NOW)
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    if condition.business_hours:
        return sign * business_time_between(FALLBACK_CALENDAR, start, end) / timedelta(hours=1)
    return sign * (end - start) / timedelta(hours=1)


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(["hours_since_pending", "hours_since_created", "hours_until_sla_due"]),
    operator=st.sampled_from(["greater_than", "less_than", "is"]),
    value=st.integers(min_value=0, max_value=200),
    business=st.booleans(),
    offset_minutes=st.integers(min_value=-20_000, max_value=20_000),
)
def test_the_query_range_contains_every_anchor_the_check_accepts(
    field: str, operator: str, value: int, business: bool, offset_minutes: int
) -> None:
    condition = TimeCondition(field=field, operator=operator, value=value, business_hours=business)
    anchor = NOW + timedelta(minutes=offset_minutes)
    if not condition.anchor.until and anchor > NOW:
        return  # a ticket is never changed in the future
    if not condition.holds(_hours(condition, anchor)):
        return
    lower, upper = condition.bound(NOW)
    assert lower is None or anchor >= lower
    assert upper is None or anchor <= upper


def _rule(conditions: list[dict[str, Any]], actions: list[dict[str, Any]]) -> AutomationRule:
    return AutomationRule.model_validate({"conditions": {"all": conditions}, "actions": actions})


PENDING = {"field": "hours_since_pending", "operator": "greater_than", "value": 24}


@pytest.mark.parametrize(
    ("conditions", "actions", "expected"),
    [
        ([PENDING], [{"action": "set_status", "status_id": 2}], True),  # to open
        ([PENDING], [{"action": "set_status", "status_id": 3}], False),  # to pending
        ([PENDING], [{"action": "add_tags", "tags": ["x"]}], False),
        ([PENDING, {"field": "tags", "operator": "not_includes", "value": ["x"]}],
         [{"action": "add_tags", "tags": ["x"]}], True),
        ([PENDING, {"field": "tags", "operator": "includes_all", "value": ["x", "y"]}],
         [{"action": "remove_tags", "tags": ["y"]}], True),
        ([PENDING, {"field": "tags", "operator": "includes_any", "value": ["x", "y"]}],
         [{"action": "remove_tags", "tags": ["y"]}], False),
        ([PENDING, {"field": "priority", "operator": "less_than", "value": "high"}],
         [{"action": "set_priority", "priority": "high"}], True),
        ([PENDING, {"field": "priority", "operator": "less_than", "value": "high"}],
         [{"action": "set_priority", "priority": "normal"}], False),
        ([PENDING, {"field": "group_id", "operator": "is", "value": None}],
         [{"action": "set_group", "group_id": 7}], True),
        ([PENDING, {"field": "assignee_id", "operator": "is_not", "value": 5}],
         [{"action": "set_assignee", "assignee_id": 5}], True),
        ([{**PENDING, "operator": "is"}], [{"action": "add_note", "body": "Still pending."}], True),
        ([{"field": "hours_since_updated", "operator": "greater_than", "value": 24}],
         [{"action": "add_note", "body": "Nudge."}], True),
        ([{"field": "hours_since_agent_replied", "operator": "greater_than", "value": 24}],
         [{"action": "add_note", "body": "Nudge."}], False),
    ],
)  # fmt: skip
def test_nullifying(conditions: Any, actions: Any, expected: bool) -> None:
    categories = {2: "open", 3: "pending"}
    assert nullifies(_rule(conditions, actions), categories) is expected

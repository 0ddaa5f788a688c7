"""Explanations: each condition's expected and actual value, and the rule's result."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_api.automation.explain import explain
from helpdesk_api.automation.fields import Field, Operator
from tests.automation.helpers import facts, when


def test_explains_every_condition_without_short_circuit() -> None:
    rule = when(
        {"field": "priority", "operator": "is", "value": "urgent"},
        {"field": "tags", "operator": "includes_any", "value": ["vip"]},
        any_=({"field": "via", "operator": "is", "value": "email"},),
    )
    result = explain(rule, facts(tags=["vip", "billing"], via="email"))
    assert not result.matched
    assert not result.all_held
    assert result.any_held
    assert [
        (e.group, e.index, e.field, e.expected, e.actual, e.held) for e in result.conditions
    ] == [
        ("all", 0, Field.priority, "urgent", "normal", False),
        ("all", 1, Field.tags, ["vip"], ["billing", "vip"], True),
        ("any", 0, Field.via, "email", "email", True),
    ]


def test_change_operators_show_from_and_to() -> None:
    rule = when({"field": "priority", "operator": "changed_from", "value": "low"})
    changed = facts(priority="high", changes=[{"field": "priority", "from": "low", "to": "high"}])
    (only,) = explain(rule, changed).conditions
    assert only.operator is Operator.changed_from
    assert only.actual == {"changed": True, "from": "low", "to": "high"}
    assert only.held
    assert explain(rule, changed).matched


def test_matches_exactly_when_the_rule_does() -> None:
    rule = when(any_=({"field": "comment_text", "operator": "contains_words", "value": "refund"},))
    for comment in ("refund please", "no thanks", None):
        f = facts(comment_text=comment)
        assert explain(rule, f).matched is rule(f)


_POOL = [
    {"field": "priority", "operator": "greater_than", "value": "normal"},
    {"field": "tags", "operator": "includes_any", "value": ["vip", "billing"]},
    {"field": "via", "operator": "in", "value": ["email", "chat"]},
    {"field": "comment_text", "operator": "contains_words", "value": "refund"},
    {"field": "priority", "operator": "changed"},
]


@settings(max_examples=200, deadline=None)
@given(
    all_=st.lists(st.sampled_from(_POOL), max_size=3),
    any_=st.lists(st.sampled_from(_POOL), max_size=3),
    priority=st.sampled_from(["low", "normal", "high", "urgent"]),
    tags=st.sets(st.sampled_from(["vip", "billing", "spam"])),
    via=st.sampled_from(["api", "email", "chat"]),
    comment=st.one_of(st.none(), st.sampled_from(["Refund!", "refunded", "ok"])),
    raised=st.booleans(),
)
def test_explanation_agrees_with_the_rule(
    all_: list[dict[str, Any]],
    any_: list[dict[str, Any]],
    priority: str,
    tags: set[str],
    via: str,
    comment: str | None,
    raised: bool,
) -> None:
    rule = when(*all_, any_=tuple(any_))
    changes = [{"field": "priority", "from": "low", "to": priority}] if raised else []
    f = facts(priority=priority, tags=tags, via=via, comment_text=comment, changes=changes)
    assert explain(rule, f).matched is rule(f)

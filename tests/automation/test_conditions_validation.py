"""The validation table: what each field family accepts, and where an error points."""

from typing import Any

import pytest
from pydantic import ValidationError

from helpdesk_api.automation.conditions import RuleConditions


def error_locs(data: dict[str, Any]) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as caught:
        RuleConditions.model_validate(data)
    return [tuple(e["loc"]) for e in caught.value.errors()]


def c(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    condition = {"field": field, "operator": operator}
    return condition if value is None else {**condition, "value": value}


@pytest.mark.parametrize(
    "condition",
    [
        c("update_type", "is", "created"),
        c("status_id", "changed_to", 4),
        c("status_category", "in", ["solved", "closed"]),
        c("priority", "less_than", "high"),
        c("type", "is", None),  # untyped
        c("via", "not_in", ["email", "trigger"]),
        c("group_id", "is_not", None),
        c("assignee_id", "changed"),
        c("requester_id", "in", [1, 2]),
        c("organization_id", "changed_from", 3),
        c("tags", "includes_all", ["vip", "Key Account"]),
        c("requester_tags", "not_includes", ["blocked"]),
        c("organization_tags", "includes_any", ["gold"]),
        c("requester_locale", "in", ["hu", "pt-BR"]),
        c("comment_present", "is", True),
        c("comment_public", "is", False),
        c("comment_text", "contains_words", "refund cancel"),
        c("subject", "contains_phrase", "money back"),
        c("actor_role", "is", "customer"),
        c("sla_event", "is", "first_reply_time.warning"),
    ],
)
def test_valid_condition_per_field_family(condition: dict[str, Any]) -> None:
    RuleConditions.model_validate({"all": [condition]})


@pytest.mark.parametrize(
    ("condition", "part"),
    [
        (c("update_type", "is", "deleted"), "value"),
        (c("update_type", "changed"), "operator"),
        (c("status_id", "is", 0), "value"),
        (c("status_id", "is", "4"), "value"),  # ids are JSON integers, not strings
        (c("status_id", "is", True), "value"),
        (c("status_id", "is", None), "value"),  # a ticket always has a status
        (c("status_category", "is", "archived"), "value"),
        (c("priority", "greater_than", "critical"), "value"),
        (c("group_id", "less_than", 3), "operator"),
        (c("group_id", "in", []), "value"),
        (c("group_id", "in", [1, None]), "value"),
        (c("group_id", "in", 1), "value"),
        (c("assignee_id", "changed", 5), "value"),  # changed takes no value
        (c("tags", "is", "vip"), "operator"),
        (c("tags", "includes_any", ["  "]), "value"),
        (c("requester_tags", "changed"), "operator"),
        (c("requester_locale", "is", "not a locale"), "value"),
        (c("comment_present", "is", "yes"), "value"),
        (c("comment_text", "is", "hello"), "operator"),
        (c("comment_text", "contains_words", "  ...  "), "value"),
        (c("subject", "contains_phrase"), "value"),
        (c("actor_role", "is", "robot"), "value"),
        (c("sla_event", "is", "first_reply.warning"), "value"),
        (c("colour", "is", "red"), "field"),
        (c("priority", "roughly", "high"), "operator"),
    ],
)
def test_invalid_condition_names_the_bad_part(condition: dict[str, Any], part: str) -> None:
    ok = c("priority", "is", "high")
    assert error_locs({"all": [ok, ok, condition]}) == [("all", 2, part)]


def test_missing_value_is_an_error_not_null() -> None:
    assert error_locs({"any": [c("priority", "is")]}) == [("any", 0, "value")]


def test_list_error_says_which_item() -> None:
    with pytest.raises(ValidationError) as caught:
        RuleConditions.model_validate({"all": [c("priority", "in", ["low", "meh"])]})
    assert "item 1" in caught.value.errors()[0]["msg"]


def test_unknown_keys_are_refused() -> None:
    assert error_locs({"all": [{**c("priority", "is", "low"), "negate": True}]}) == [
        ("all", 0, "negate")
    ]
    assert error_locs({"none": []}) == [("none",)]


def test_values_are_normalised_once() -> None:
    rule = RuleConditions.model_validate(
        {"all": [c("tags", "includes_all", ["#VIP", "vip", "Key Account"])]}
    )
    assert rule.all[0].value == ["vip", "key_account"]

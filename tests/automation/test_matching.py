"""Each operator, all/any, priority ranks, words and phrases, and changes from a ChangeSet."""

from typing import Any

import pytest

from helpdesk_api.automation import conditions
from helpdesk_api.automation.conditions import RuleConditions, compile_conditions
from helpdesk_api.automation.fields import Field, UpdateType
from tests.automation.helpers import facts, holds, when

PRIORITY_RAISED = [{"field": "priority", "from": "low", "to": "high"}]


def c(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    condition = {"field": field, "operator": operator}
    return condition if value is None else {**condition, "value": value}


def test_is_and_is_not() -> None:
    assert holds(c("priority", "is", "normal"))
    assert not holds(c("priority", "is_not", "normal"))
    assert holds(c("update_type", "is", "created"), update_type=UpdateType.created)


def test_is_null_on_nullable_fields() -> None:
    assert holds(c("assignee_id", "is", None))
    assert not holds(c("assignee_id", "is", None), assignee_id=5)
    assert holds(c("type", "is_not", None), type="incident")


def test_in_and_not_in() -> None:
    assert holds(c("group_id", "in", [3, 4]), group_id=4)
    assert not holds(c("group_id", "in", [3, 4]))  # no group is in no list
    assert holds(c("via", "not_in", ["email", "chat"]))


def test_changed_and_not_changed() -> None:
    assert holds(c("priority", "changed"), priority="high", changes=PRIORITY_RAISED)
    assert not holds(c("priority", "changed"))
    assert holds(c("group_id", "not_changed"), changes=PRIORITY_RAISED)


def test_changed_to_and_from_need_a_change() -> None:
    assert holds(c("priority", "changed_to", "high"), priority="high", changes=PRIORITY_RAISED)
    assert holds(c("priority", "changed_from", "low"), priority="high", changes=PRIORITY_RAISED)
    # Already high, not changed: "changed to high" does not hold.
    assert not holds(c("priority", "changed_to", "high"), priority="high")
    assert not holds(c("priority", "changed_from", "normal"))


def test_status_change_sets_id_and_category() -> None:
    status_change = [
        {
            "field": "status",
            "from": {"id": 1, "category": "open"},
            "to": {"id": 5, "category": "solved"},
        }
    ]
    solved = {"status_id": 5, "status_category": "solved", "changes": status_change}
    assert holds(c("status_category", "changed_to", "solved"), **solved)
    assert holds(c("status_id", "changed_from", 1), **solved)


def test_only_the_first_from_counts_as_before() -> None:
    changes = [*PRIORITY_RAISED, {"field": "priority", "from": "high", "to": "urgent"}]
    assert facts(priority="urgent", changes=changes).before(Field.priority) == "low"


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("less_than", "high", True),
        ("less_than", "normal", False),
        ("less_than", "low", False),
        ("greater_than", "low", True),
        ("greater_than", "normal", False),
        ("greater_than", "urgent", False),
    ],
)
def test_priority_compares_by_rank(operator: str, value: str, expected: bool) -> None:
    # Alphabetically "high" < "low" < "normal"; by rank low < normal < high < urgent.
    assert holds(c("priority", operator, value), priority="normal") is expected


def test_tag_sets() -> None:
    tags = {"tags": ["vip", "billing"]}
    assert holds(c("tags", "includes_all", ["VIP", "billing"]), **tags)
    assert not holds(c("tags", "includes_all", ["vip", "refund"]), **tags)
    assert holds(c("tags", "includes_any", ["refund", "billing"]), **tags)
    assert holds(c("tags", "not_includes", ["refund", "spam"]), **tags)
    assert not holds(c("tags", "not_includes", ["spam", "vip"]), **tags)
    assert holds(
        c("requester_tags", "includes_any", ["key_account"]), requester_tags=["key_account"]
    )


def test_comment_and_actor_facts() -> None:
    assert holds(c("comment_present", "is", False))
    assert holds(c("comment_public", "is", True), comment_text="hi", comment_public=True)
    assert holds(c("actor_role", "is", None))  # the service itself
    assert holds(c("requester_locale", "in", ["hu", "de"]), requester_locale="hu")


def test_sla_event_is_among_the_changes_events() -> None:
    events = {"sla_events": ["first_reply_time.warning", "resolution_time.breached"]}
    assert holds(c("sla_event", "is", "resolution_time.breached"), **events)
    assert not holds(c("sla_event", "is_not", "resolution_time.breached"), **events)
    assert holds(c("sla_event", "not_in", ["next_reply_time.breached"]), **events)
    assert not holds(c("sla_event", "in", ["first_reply_time.breached"]))


def test_contains_words_is_any_whole_word_case_insensitive() -> None:
    condition = c("comment_text", "contains_words", "refund cancel")
    assert holds(condition, comment_text="Please CANCEL my order.")
    assert not holds(condition, comment_text="I was refunded already")
    assert not holds(condition)  # no comment


def test_contains_phrase_needs_the_words_in_order() -> None:
    condition = c("subject", "contains_phrase", "money back")
    assert holds(condition, subject="I want my MONEY   back!")
    assert not holds(condition, subject="back my money")
    assert not holds(condition, subject="moneyback")


def test_words_in_cyrillic_and_hungarian() -> None:
    assert holds(c("comment_text", "contains_words", "ВОЗВРАТ"), comment_text="Прошу возврат денег")
    hungarian = c("comment_text", "contains_phrase", "árvíztűrő tükörfúrógép")
    assert holds(hungarian, comment_text="ÁRVÍZTŰRŐ TÜKÖRFÚRÓGÉP, kérem")
    # The accent is part of the letter: "tűrő" is not "turo".
    assert not holds(c("comment_text", "contains_words", "turo"), comment_text="tűrő")


def test_decomposed_accents_match_composed() -> None:
    decomposed = "a\u0301rvi\u0301z"  # á and í as base letter + combining acute
    assert holds(c("comment_text", "contains_words", "árvíz"), comment_text=decomposed)


def test_all_and_any() -> None:
    vip = c("tags", "includes_any", ["vip"])
    urgent = c("priority", "is", "urgent")
    email = c("via", "is", "email")
    rule = when(vip, any_=(urgent, email))
    assert rule(facts(tags=["vip"], via="email"))
    assert not rule(facts(tags=["vip"]))  # neither any condition
    assert not rule(facts(priority="urgent"))  # the all condition fails
    assert when()(facts())  # no conditions: always


def test_compiling_parses_each_condition_once(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled_count = 0
    real = conditions._compile

    def spy(condition: conditions.Condition) -> conditions.CompiledCondition:
        nonlocal compiled_count
        compiled_count += 1
        return real(condition)

    monkeypatch.setattr(conditions, "_compile", spy)
    model = RuleConditions.model_validate(
        {"all": [c("priority", "in", ["high", "urgent"])], "any": [c("tags", "changed")]}
    )
    rule = compile_conditions(model)
    for priority in ("low", "high", "urgent") * 100:
        rule(facts(priority=priority))
    assert compiled_count == 2

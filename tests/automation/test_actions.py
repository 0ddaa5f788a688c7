"""Action validation, and plan(): what each action would change, no-ops skipped."""

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from helpdesk_api.automation.actions import Action, ChangeKind, apply_planned, plan
from helpdesk_api.automation.fields import Field
from tests.automation.helpers import facts

ACTIONS = TypeAdapter(list[Action])


def actions(*items: dict[str, Any]) -> list[Action]:
    return ACTIONS.validate_python(list(items))


def error_locs(*items: dict[str, Any]) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as caught:
        actions(*items)
    return [tuple(e["loc"]) for e in caught.value.errors()]


def test_every_action_kind_validates() -> None:
    parsed = actions(
        {"action": "set_status", "status_id": 4},
        {"action": "set_priority", "priority": "high"},
        {"action": "set_type", "type": None},
        {"action": "set_group", "group_id": 2},
        {"action": "set_assignee", "assignee_id": None},
        {"action": "add_tags", "tags": ["#VIP"]},
        {"action": "remove_tags", "tags": ["spam"]},
        {"action": "set_tags", "tags": []},
        {"action": "add_cc", "user_id": 9},
        {"action": "add_note", "body": "Escalated by {{ trigger.title }}"},
        {"action": "public_reply", "body": "Hello {{ ticket.requester.name }}"},
        {"action": "notify", "recipient": "user", "user_id": 3, "subject": "s", "body": "b"},
        {"action": "route"},
        {"action": "call_webhook", "webhook_id": 1, "payload": '{"id": {{ ticket.id }}}'},
    )
    assert len(parsed) == 14


@pytest.mark.parametrize(
    ("item", "loc"),
    [
        ({"action": "set_priority", "priority": "asap"}, ("set_priority", "priority")),
        ({"action": "set_status", "status_id": "4"}, ("set_status", "status_id")),
        ({"action": "add_tags", "tags": []}, ("add_tags", "tags")),
        ({"action": "add_tags", "tags": ["ok", " "]}, ("add_tags", "tags", 1)),
        ({"action": "add_note", "body": "{{ unclosed"}, ("add_note", "body")),
        (
            {"action": "notify", "recipient": "user", "subject": "s", "body": "b"},
            ("notify", "user_id"),
        ),
        (
            {"action": "notify", "recipient": "group", "user_id": 2, "subject": "s", "body": "b"},
            ("notify", "user_id"),
        ),
        ({"action": "delete_ticket"}, ()),
    ],
)
def test_invalid_action_names_the_bad_part(item: dict[str, Any], loc: tuple[Any, ...]) -> None:
    ok = {"action": "route"}
    assert error_locs(ok, item) == [(1, *loc)]


def test_sets_that_change_nothing_are_skipped() -> None:
    current = facts(priority="high", group_id=2, tags=["vip"])
    planned = plan(
        actions(
            {"action": "set_priority", "priority": "high"},
            {"action": "set_group", "group_id": 2},
            {"action": "add_tags", "tags": ["vip"]},
            {"action": "remove_tags", "tags": ["spam"]},
            {"action": "set_tags", "tags": ["VIP"]},
        ),
        current,
    )
    assert planned == []


def test_field_changes_say_before_and_after() -> None:
    planned = plan(
        actions(
            {"action": "set_priority", "priority": "urgent"},
            {"action": "add_tags", "tags": ["escalated"]},
        ),
        facts(tags=["vip"]),
    )
    assert [(p.kind, p.field, p.before, p.after) for p in planned] == [
        (ChangeKind.field, Field.priority, "normal", "urgent"),
        (ChangeKind.field, Field.tags, frozenset({"vip"}), frozenset({"vip", "escalated"})),
    ]
    assert all(p.changes_ticket for p in planned)


def test_later_actions_see_earlier_ones() -> None:
    planned = plan(
        actions(
            {"action": "set_priority", "priority": "urgent"},
            {"action": "set_priority", "priority": "urgent"},
            {"action": "add_tags", "tags": ["x"]},
            {"action": "remove_tags", "tags": ["x"]},
        ),
        facts(),
    )
    assert [(p.field, p.after) for p in planned] == [
        (Field.priority, "urgent"),
        (Field.tags, frozenset({"x"})),
        (Field.tags, frozenset()),
    ]


def test_effects_do_not_change_the_ticket() -> None:
    planned = plan(
        actions(
            {"action": "add_note", "body": "note"},
            {"action": "notify", "recipient": "requester", "subject": "s", "body": "b"},
            {"action": "call_webhook", "webhook_id": 7, "payload": "{}"},
            {"action": "add_cc", "user_id": 4},
            {"action": "add_cc", "user_id": 4},  # already a CC after the first
        ),
        facts(),
    )
    assert [p.kind for p in planned] == [
        ChangeKind.comment,
        ChangeKind.notification,
        ChangeKind.webhook,
        ChangeKind.cc,
    ]
    assert not any(p.changes_ticket for p in planned)


def test_route_only_an_unassigned_ticket() -> None:
    route = actions({"action": "route"})
    (planned,) = plan(route, facts(group_id=3))
    assert (planned.kind, planned.after, planned.changes_ticket) == (ChangeKind.route, 3, True)
    assert plan(route, facts(group_id=3, assignee_id=8)) == []


def test_apply_planned_records_the_change() -> None:
    before = facts()
    planned = plan(actions({"action": "set_status", "status_id": 5}), before)
    after = apply_planned(before, planned, status_categories={5: "solved"})
    assert (after.status_id, after.status_category) == (5, "solved")
    assert Field.status_id in after.changed
    assert after.before(Field.status_id) == 1
    assert before.status_id == 1  # facts are never changed in place

"""The engine: position order, restart from the top, fire at most once, loop stop."""

from typing import Any

import pytest
from pydantic import ValidationError

from helpdesk_api.automation.actions import PlannedChange, apply_planned
from helpdesk_api.automation.engine import (
    CompiledTrigger,
    EngineResult,
    TriggerRule,
    compile_trigger,
    run_triggers,
)
from helpdesk_api.automation.facts import TicketFacts
from tests.automation.helpers import facts


def trigger(
    id: int, conditions: dict[str, Any], actions: list[dict[str, Any]], position: int | None = None
) -> CompiledTrigger:
    rule = TriggerRule.model_validate({"conditions": conditions, "actions": actions})
    return compile_trigger(
        id=id, position=id if position is None else position, title=f"t{id}", rule=rule
    )


def c(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    condition = {"field": field, "operator": operator}
    return condition if value is None else {**condition, "value": value}


def run(
    triggers: list[CompiledTrigger],
    start: TicketFacts,
    max_passes: int = 20,
    first_pass: frozenset[int] | None = None,
) -> tuple[EngineResult, list[int]]:
    applied: list[int] = []
    current = [start]

    def apply(t: CompiledTrigger, planned: list[PlannedChange]) -> TicketFacts:
        applied.append(t.id)
        current[0] = apply_planned(current[0], planned)
        return current[0]

    result = run_triggers(
        triggers, lambda: current[0], apply, max_passes=max_passes, first_pass=first_pass
    )
    return result, applied


def fired(result: EngineResult) -> list[int]:
    return [f.trigger.id for f in result.fired]


def add_tag(tag: str) -> list[dict[str, Any]]:
    return [{"action": "add_tags", "tags": [tag]}]


def test_triggers_fire_in_position_order() -> None:
    always = {"all": []}
    triggers = [
        trigger(1, always, [{"action": "add_note", "body": "a"}], position=3),
        trigger(2, always, [{"action": "add_note", "body": "b"}], position=1),
    ]
    result, applied = run(triggers, facts())
    assert fired(result) == [2, 1] == applied
    assert result.passes == 1
    assert not result.loop_stopped


def test_a_change_restarts_from_the_top() -> None:
    # 1 sits above 2 but only matches what 2 sets: it fires on the second pass.
    triggers = [
        trigger(1, {"all": [c("priority", "changed_to", "urgent")]}, add_tag("escalated")),
        trigger(
            2,
            {"all": [c("tags", "includes_any", ["vip"])]},
            [{"action": "set_priority", "priority": "urgent"}],
        ),
    ]
    result, _ = run(triggers, facts(tags=["vip"]))
    assert fired(result) == [2, 1]
    assert result.facts is not None
    assert result.facts.tags == {"vip", "escalated"}
    assert result.passes == 3  # 2 fires; restart, 1 fires; restart, nothing more


def test_effects_alone_do_not_restart() -> None:
    triggers = [
        trigger(1, {"all": []}, [{"action": "add_note", "body": "n"}]),
        trigger(2, {"all": []}, [{"action": "add_note", "body": "m"}]),
    ]
    result, _ = run(triggers, facts())
    assert (fired(result), result.passes) == ([1, 2], 1)


def test_a_trigger_fires_at_most_once_per_change() -> None:
    # Matches again after its own change (its condition stays true): still only once.
    again = trigger(1, {"all": [c("priority", "is_not", "low")]}, add_tag("seen"))
    other = trigger(2, {"all": [c("tags", "includes_any", ["seen"])]}, add_tag("more"))
    result, _ = run([again, other], facts())
    assert fired(result) == [1, 2]


def test_a_no_op_trigger_fires_but_changes_nothing() -> None:
    noop = trigger(1, {"all": []}, [{"action": "set_priority", "priority": "normal"}])
    result, applied = run([noop], facts())
    assert [f.planned for f in result.fired] == [()]
    assert (applied, result.passes) == ([1], 1)


def test_a_tag_flip_flop_settles() -> None:
    add = trigger(1, {"all": [c("tags", "not_includes", ["x"])]}, add_tag("x"))
    remove = trigger(
        2, {"all": [c("tags", "includes_all", ["x"])]}, [{"action": "remove_tags", "tags": ["x"]}]
    )
    result, _ = run([add, remove], facts())
    assert fired(result) == [1, 2]
    assert not result.loop_stopped
    assert result.facts is not None
    assert result.facts.tags == frozenset()


def test_the_pass_limit_stops_a_chain_without_raising() -> None:
    # Each trigger adds the tag the next one waits for: a chain longer than the limit.
    chain = [trigger(1, {"all": []}, add_tag("t1"))] + [
        trigger(n, {"all": [c("tags", "includes_any", [f"t{n - 1}"])]}, add_tag(f"t{n}"))
        for n in range(2, 8)
    ]
    result, applied = run(chain, facts(), max_passes=3)
    assert result.loop_stopped
    assert fired(result) == [1, 2, 3] == applied  # what fired stays fired (and applied)
    assert result.passes == 3


def test_no_triggers_builds_no_facts() -> None:
    def facts_of() -> TicketFacts:
        raise AssertionError("facts built for nothing")

    result = run_triggers([], facts_of, lambda t, p: facts())
    assert (result.fired, result.facts, result.loop_stopped) == ((), None, False)


def test_trigger_rule_errors_point_into_conditions_and_actions() -> None:
    data = {
        "conditions": {"all": [c("tags", "changed"), c("via", "is", "api"), c("via", "is", 7)]},
        "actions": [{"action": "set_priority", "priority": "asap"}],
    }
    with pytest.raises(ValidationError) as caught:
        TriggerRule.model_validate(data)
    locs = [tuple(e["loc"]) for e in caught.value.errors()]
    assert locs == [("conditions", "all", 2, "value"), ("actions", 0, "set_priority", "priority")]


def test_a_rule_needs_an_action() -> None:
    with pytest.raises(ValidationError) as caught:
        TriggerRule.model_validate({"conditions": {}, "actions": []})
    assert [tuple(e["loc"]) for e in caught.value.errors()] == [("actions",)]


def test_the_gate_holds_the_change_only_conditions_and_never_the_loaded_ones():
    from helpdesk_api.automation.engine import TriggerRule, compile_trigger

    rule = TriggerRule.model_validate(
        {
            "conditions": {
                "all": [
                    {"field": "update_type", "operator": "is", "value": "created"},
                    {"field": "requester_tags", "operator": "includes_any", "value": ["vip"]},
                    {"field": "comment_text", "operator": "contains_words", "value": "refund"},
                ],
                "any": [{"field": "priority", "operator": "is", "value": "urgent"}],
            },
            "actions": [{"action": "add_tags", "tags": ["x"]}],
        }
    )
    trigger = compile_trigger(id=1, position=0, title="t", rule=rule)

    assert [c.condition.field for c in trigger.gate] == ["update_type"]
    # Placeholders for what is read later (no tags, blank comment) never close the gate...
    assert trigger.may_match(facts(update_type="created", comment_text="", priority="urgent"))
    # ...a change-only condition that fails does.
    assert not trigger.may_match(facts(update_type="changed", comment_text="", priority="urgent"))


def test_the_first_pass_looks_only_at_the_triggers_that_may_match_the_change() -> None:
    # 1 would match at once but the caller's glance left it out: the first pass skips it.
    # 2 matches and raises the priority; on the second pass 1 and 3 are looked at again.
    triggers = [
        trigger(1, {"all": [c("priority", "is", "normal")]}, add_tag("normal")),
        trigger(2, {"all": []}, [{"action": "set_priority", "priority": "urgent"}]),
        trigger(3, {"all": [c("priority", "is", "urgent")]}, add_tag("urgent")),
    ]
    result, _ = run(triggers, facts(priority="normal"), first_pass=frozenset({2}))
    assert fired(result) == [2, 3]
    assert result.passes == 3
    unfiltered, _ = run(triggers, facts(priority="normal"))
    assert fired(unfiltered) == [1, 2, 3]


def test_any_conditions_close_the_gate_only_when_none_needs_a_query() -> None:
    def trigger(*any_: dict[str, object]) -> CompiledTrigger:
        rule = TriggerRule.model_validate(
            {"conditions": {"any": list(any_)}, "actions": [{"action": "add_tags", "tags": ["x"]}]}
        )
        return compile_trigger(id=1, position=0, title="t", rule=rule)

    urgent = {"field": "priority", "operator": "is", "value": "urgent"}
    printer = {"field": "subject", "operator": "contains_words", "value": "printer"}
    vip = {"field": "requester_tags", "operator": "includes_any", "value": ["vip"]}
    on_the_change = trigger(urgent, printer)
    assert not on_the_change.may_match(facts(priority="normal", subject="Hello"))
    assert on_the_change.may_match(facts(priority="normal", subject="Printer on fire"))
    # The requester's tags are read later: the placeholder (none) must not close the gate.
    read_later = trigger(urgent, vip)
    assert read_later.may_match(facts(priority="normal", subject="Hello"))


def test_a_route_pauses_the_run_and_the_resumed_run_fires_the_others_once():
    route = trigger(1, {"all": [c("tags", "includes_any", ["vip"])]}, [{"action": "route"}])
    tag = trigger(2, {"all": [c("priority", "is", "normal")]}, add_tag("seen"))

    def engine(start: TicketFacts, **options: Any) -> EngineResult:
        current = [start]

        def apply(_: CompiledTrigger, planned: list[PlannedChange]) -> TicketFacts:
            current[0] = apply_planned(current[0], planned)
            return current[0]

        return run_triggers([route, tag], lambda: current[0], apply, **options)

    paused = engine(facts(tags=["vip"]), pause_on_route=True)
    assert paused.paused
    assert fired(paused) == [1]
    routed = facts(tags=["vip"], assignee_id=7)
    resumed = engine(routed, already_fired={1}, pause_on_route=True)
    assert not resumed.paused
    assert fired(resumed) == [2]
    # Without the pause the route is only planned, and the run goes on without its agent.
    whole = engine(facts(tags=["vip"]))
    assert not whole.paused
    assert fired(whole) == [1, 2]

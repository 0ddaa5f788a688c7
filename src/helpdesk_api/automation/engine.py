"""The order triggers fire in, for one ticket change.

Triggers are evaluated in ``position`` order. When one matches, its actions are planned; if
they change the ticket (a field, or routing), the caller applies them and evaluation starts
again from the top with the new facts, so an earlier trigger can react to a later one's
change. Each trigger fires at most once per change, which by itself ends a tag flip-flop
(A adds ``x``, B removes it, neither fires again). ``max_passes`` bounds the work of a long
chain regardless: past it the engine stops and says so (``loop_stopped``) instead of
raising, so the caller keeps what already fired and records ``trigger.loop_stopped``.

The engine never touches the database: ``facts_of`` gives the facts and ``apply`` writes a
trigger's planned changes and returns the facts after them (a dry run passes
``actions.apply_planned``). A ``route`` is the one change whose outcome the engine cannot
know (routing picks the agent from the database): with ``pause_on_route`` the engine stops
right after a trigger that routes (``paused``), the caller writes and routes, and calls it
again with the routed facts and ``already_fired``, so the next pass, from the top, sees the
agent routing chose, as it sees any other trigger's change.
"""

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from pydantic import Field as Attribute

from helpdesk_api.automation.actions import Action, AddCc, ChangeKind, PlannedChange, plan
from helpdesk_api.automation.conditions import (
    CompiledCondition,
    CompiledConditions,
    RuleConditions,
    compile_conditions,
)
from helpdesk_api.automation.facts import TicketFacts
from helpdesk_api.automation.fields import LOADED_FIELDS, Field

# A pass is one walk down the list; a change can restart it once per trigger that changes
# the ticket, so this allows a chain of 19 such triggers before calling it a loop.
MAX_PASSES = 20


class TriggerRule(BaseModel):
    """A trigger's rule as an admin writes it; errors point into it, such as
    ``("conditions", "all", 2, "value")`` or ``("actions", 0, "set_priority", "priority")``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conditions: RuleConditions
    actions: list[Action] = Attribute(min_length=1)


@dataclass(frozen=True, slots=True)
class CompiledTrigger:
    id: int
    position: int
    title: str
    conditions: CompiledConditions
    actions: tuple[Action, ...]
    # Its ``all`` conditions that need no query: when one fails on the change alone, the
    # trigger cannot match (``may_match``) and the reaction need not read the rest.
    gate: tuple[CompiledCondition, ...] = ()
    # Its ``any`` conditions when none needs a query (else empty: the ``any`` part may hold
    # whatever the change looks like): when none holds on the change alone, it cannot match.
    any_gate: tuple[CompiledCondition, ...] = ()

    def matches(self, facts: TicketFacts) -> bool:
        return self.conditions(facts)

    def may_match(self, facts: TicketFacts) -> bool:
        """False only when it cannot match: ``facts`` may hold placeholders for
        ``LOADED_FIELDS``, which neither gate reads. Every change asks it of every trigger:
        plain loops, no generator per call."""
        for condition in self.gate:
            if not condition.test(facts):
                return False
        if not self.any_gate:
            return True
        for condition in self.any_gate:  # noqa: SIM110 (no generator per call)
            if condition.test(facts):
                return True
        return False


def compile_trigger(*, id: int, position: int, title: str, rule: TriggerRule) -> CompiledTrigger:
    """Once per trigger version (cache it): evaluating a compiled trigger parses nothing."""
    conditions = compile_conditions(rule.conditions)
    return CompiledTrigger(
        id=id,
        position=position,
        title=title,
        conditions=conditions,
        actions=tuple(rule.actions),
        gate=tuple(c for c in conditions.all if c.condition.field not in LOADED_FIELDS),
        any_gate=(
            ()
            if any(c.condition.field in LOADED_FIELDS for c in conditions.any)
            else conditions.any
        ),
    )


def calendars_named(triggers: Iterable[CompiledTrigger]) -> frozenset[int]:
    """The business calendars the triggers' ``within_business_hours`` conditions name."""
    return frozenset(
        c.condition.value
        for t in triggers
        for c in (*t.conditions.all, *t.conditions.any)
        if c.condition.field is Field.within_business_hours
    )


@dataclass(frozen=True, slots=True)
class FactsNeeds:
    """Which of the loaded facts some rule reads; the others stay empty."""

    requester: bool = True  # requester_tags, requester_locale
    organization: bool = True  # organization_tags
    comment: bool = True  # comment_text
    ccs: bool = True  # cc_user_ids, which ``add_cc`` reads to tell a no-op


def needs_of(triggers: Iterable[CompiledTrigger]) -> FactsNeeds:
    """What ``triggers`` read, over every condition (a later pass evaluates them all)."""
    fields: set[Field | str] = set()
    copies = False
    for trigger in triggers:
        fields.update(c.condition.field for c in (*trigger.conditions.all, *trigger.conditions.any))
        copies = copies or any(isinstance(a, AddCc) for a in trigger.actions)
    return FactsNeeds(
        requester=bool(fields & {Field.requester_tags, Field.requester_locale}),
        organization=Field.organization_tags in fields,
        comment=Field.comment_text in fields,
        ccs=copies,
    )


@dataclass(frozen=True, slots=True)
class FiredTrigger:
    trigger: CompiledTrigger
    planned: tuple[PlannedChange, ...]  # empty when every action was a no-op


@dataclass(frozen=True, slots=True)
class EngineResult:
    fired: tuple[FiredTrigger, ...]  # in firing order
    facts: TicketFacts | None  # as the last trigger left them; None: no triggers, no facts
    passes: int
    loop_stopped: bool  # hit ``max_passes``: record ``trigger.loop_stopped``
    paused: bool = False  # stopped after a trigger that routes (``pause_on_route``)


Apply = Callable[[CompiledTrigger, list[PlannedChange]], TicketFacts]


def run_triggers(
    triggers: Sequence[CompiledTrigger],
    facts_of: Callable[[], TicketFacts],
    apply: Apply,
    max_passes: int = MAX_PASSES,
    first_pass: Collection[int] | None = None,
    *,
    already_fired: Collection[int] = (),
    pause_on_route: bool = False,
) -> EngineResult:
    """Fire ``triggers`` for one change. ``apply`` is called for every trigger that fires,
    with its planned changes (perhaps none but effects), and returns the facts after them.

    ``first_pass``: the ids of the triggers that ``may_match`` the change as it came in;
    the others cannot match before a trigger changes the ticket, so the first pass skips
    them. Later passes, on changed facts, look at every trigger.
    ``already_fired``: triggers that fired earlier in this change (before a pause); they
    do not fire again. ``pause_on_route``: stop after a trigger whose route was planned,
    so the caller can route and resume (the first pass of the resumed run is a new pass
    from the top, as after any change)."""
    ordered = sorted(triggers, key=lambda t: (t.position, t.id))
    fired: list[FiredTrigger] = []
    fired_ids: set[int] = set(already_fired)
    if not ordered:
        # No facts needed: a desk without triggers pays for no queries.
        return EngineResult(fired=(), facts=None, passes=0, loop_stopped=False)
    facts = facts_of()
    passes = 0
    while True:
        if passes == max_passes:
            return EngineResult(tuple(fired), facts, passes, loop_stopped=True)
        passes += 1
        restart = False
        for trigger in ordered:
            if trigger.id in fired_ids:
                continue
            if passes == 1 and first_pass is not None and trigger.id not in first_pass:
                continue
            if not trigger.matches(facts):
                continue
            planned = plan(trigger.actions, facts)
            fired_ids.add(trigger.id)
            fired.append(FiredTrigger(trigger, tuple(planned)))
            facts = apply(trigger, planned)
            if pause_on_route and any(p.kind is ChangeKind.route for p in planned):
                return EngineResult(tuple(fired), facts, passes, loop_stopped=False, paused=True)
            if any(p.changes_ticket for p in planned):
                restart = True
                break
        if not restart:
            return EngineResult(tuple(fired), facts, passes, loop_stopped=False)

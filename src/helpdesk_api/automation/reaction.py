"""The ``Stage.automation`` reaction: run the active triggers on a ticket change and write
what they change, as the follow-up round of the change, by ``Actor.system(Via.trigger)``.

Three steps, so the engine stays pure:

1. **Read** (async): the compiled triggers from the process cache, the change's facts
   (``facts_loading``: what the session already holds, the rest and the set's version in
   one statement), and whether each group, agent and status the triggers name can be used
   now (``References``, only for the ids the triggers that fire name).
2. **Run** (sync): ``engine.run_triggers``; its ``apply`` step checks each planned change
   against the references, drops one that cannot be applied (a deleted group, an inactive
   agent) with the trigger's error, and returns the facts after the rest.
3. **Write** (async): the accepted changes into ``change.follow_up_by(TRIGGER_ACTOR)``, each
   trigger's changes after an audit note ``{"field": "trigger", "to": {"id", "title"}}``;
   errors into the trigger's ``last_error``; ``trigger.loop_stopped`` when the engine gave up.
   A ``route`` pauses the run: it is written (routing picks the agent) and the run resumes
   from the top with the agent it picked.

The follow-up round comes back through the pipeline by ``Via.trigger`` and is skipped here:
each trigger fires at most once per change, and the engine has already re-run the triggers
on its own changes.
"""

from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.automation.actions import PlannedChange, apply_planned
from helpdesk_api.automation.applying import (
    ERROR_REFRESH,
    Applier,
    load_references,
    record_error,
    write_planned,
)
from helpdesk_api.automation.engine import (
    MAX_PASSES,
    CompiledTrigger,
    EngineResult,
    FiredTrigger,
    run_triggers,
)
from helpdesk_api.automation.facts import TicketFacts
from helpdesk_api.automation.facts_loading import at_a_glance, facts_and_version
from helpdesk_api.automation.fields import Field
from helpdesk_api.automation.store import TriggerCache
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import Ticket, Trigger, Via
from helpdesk_api.tickets import ChangeSet, TicketChange

TRIGGER_ACTOR = Actor.system(Via.trigger)


class TriggerReaction:
    """One per pipeline: it holds the process cache of compiled triggers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = TriggerCache()
        # The error this process last recorded per trigger, and when: ``record_error``
        # rewrites a row at most once a minute anyway, and a rule failing on every change
        # should not cost every change a statement to find that out.
        self._recorded: dict[int, tuple[str, datetime]] = {}

    async def __call__(self, session: AsyncSession, change: TicketChange) -> None:
        if change.actor.via == Via.trigger:
            return  # the triggers' own follow-up: they already ran on what they changed
        # Most changes meet no trigger's change-only conditions (the default acknowledgement
        # wants a customer's new ticket): those read the set's version and nothing more.
        # The others may match: the version is read with their facts, in one statement,
        # and only a new version (rare) costs a second.
        glance = at_a_glance(change)
        cached = self.cache.cached
        current = cached is None
        triggers = await self.cache.triggers(session) if current else cached
        candidates = _candidates(triggers or (), glance)
        if not candidates:
            if current:
                return
            triggers = await self.cache.triggers(session)
            if triggers is cached:
                return
            current, candidates = True, _candidates(triggers, glance)
            if not candidates:
                return
        facts, version = await facts_and_version(
            session,
            change,
            self.cache.calendar_ids,
            self.cache.facts_needs,
            read_version=not current,
        )
        if version is not None and version != self.cache.version:
            triggers = await self.cache.at_version(session, version)
            candidates = _candidates(triggers, glance)
            if not candidates:
                return
            facts, _ = await facts_and_version(
                session,
                change,
                self.cache.calendar_ids,
                self.cache.facts_needs,
                read_version=False,
            )
        assert triggers is not None
        await self._run(session, change, triggers, facts, candidates)

    async def _run(
        self,
        session: AsyncSession,
        change: TicketChange,
        triggers: tuple[CompiledTrigger, ...],
        facts: TicketFacts,
        candidates: frozenset[int] | None,
    ) -> None:
        follow_up: ChangeSet | None = None
        fired: list[FiredTrigger] = []
        errors: dict[int, str] = {}
        passes = 0
        # One engine run per route: the engine pauses after a trigger that routes, the
        # route is written (routing picks the agent), and the next run starts from the top
        # with the agent it picked, so later triggers see the assignee like any change.
        while True:
            run, result = await _run_with_references(
                session,
                triggers,
                facts,
                candidates,
                already_fired={f.trigger.id for f in fired},
                max_passes=MAX_PASSES - passes,
            )
            passes += result.passes
            fired.extend(result.fired)
            if run is None:
                break
            for trigger_id, message in run.errors.items():
                errors.setdefault(trigger_id, message)
            # A trigger whose every action was a no-op (or failed) leaves no audit: a
            # follow-up round holding only a note would tell webhooks of a change that did
            # not happen.
            for trigger, accepted in run.accepted:
                if not accepted:
                    continue
                if follow_up is None:
                    follow_up = change.follow_up_by(TRIGGER_ACTOR)
                error = await write_planned(
                    session,
                    change.ticket,
                    follow_up,
                    kind="trigger",
                    rule=trigger,
                    accepted=accepted,
                    references=run.references,
                    actor=TRIGGER_ACTOR,
                    now=change.now,
                    settings=self.settings,
                )
                if error is not None:
                    errors.setdefault(trigger.id, error)
            if not result.paused or result.facts is None:
                break
            ticket = change.ticket
            facts = result.facts.with_values(
                {Field.assignee_id: ticket.assignee_id, Field.group_id: ticket.group_id}
            )
            candidates = None
        for trigger_id, error in errors.items():
            await self._record_error(session, trigger_id, error, change.now)
        if result.loop_stopped:
            await _record_loop_stopped(session, change.ticket, passes, fired)

    async def _record_error(
        self, session: AsyncSession, trigger_id: int, error: str, now: datetime
    ) -> None:
        last = self._recorded.get(trigger_id)
        if last is not None and last[0] == error and timedelta(0) <= now - last[1] < ERROR_REFRESH:
            return
        await record_error(session, Trigger, trigger_id, error, now)
        self._recorded[trigger_id] = (error, now)


def _candidates(triggers: tuple[CompiledTrigger, ...], glance: TicketFacts) -> frozenset[int]:
    return frozenset(t.id for t in triggers if t.may_match(glance))


async def _run_with_references(
    session: AsyncSession,
    triggers: tuple[CompiledTrigger, ...],
    facts: TicketFacts,
    candidates: frozenset[int] | None = None,
    *,
    already_fired: Collection[int] = (),
    max_passes: int = MAX_PASSES,
) -> tuple[Applier | None, EngineResult]:
    """Run the triggers with what their actions point at loaded only for those that fire.

    A pure first run (``apply_planned``, nothing checked) tells which fire; their groups,
    agents and statuses are loaded and the real run checks against them. A rejected change
    can make the real run differ, so if it fired a trigger not loaded for, it runs again
    with those loaded too. A hundred triggers that do not fire cost no query at all.
    ``candidates``: the triggers that may match the change as it came (``may_match``), the
    only ones the first pass evaluates; None: all. Both runs pause after a route.
    ``(None, probe)`` when none fires."""
    simulated = [facts]

    def simulate(_: CompiledTrigger, planned: list[PlannedChange]) -> TicketFacts:
        simulated[0] = apply_planned(simulated[0], planned)
        return simulated[0]

    def engine(
        apply: Callable[[CompiledTrigger, list[PlannedChange]], TicketFacts],
    ) -> EngineResult:
        return run_triggers(
            triggers,
            lambda: facts,
            apply,
            max_passes,
            first_pass=candidates,
            already_fired=already_fired,
            pause_on_route=True,
        )

    probe = engine(simulate)
    loaded = {f.trigger.id for f in probe.fired}
    if not loaded:
        return None, probe
    while True:
        chosen = [t for t in triggers if t.id in loaded]
        run = Applier(await load_references(session, chosen, facts), facts)
        result = engine(run.apply)
        fired = {f.trigger.id for f in result.fired}
        if fired <= loaded:
            return run, result
        loaded |= fired


async def _record_loop_stopped(
    session: AsyncSession, ticket: Ticket, passes: int, fired: list[FiredTrigger]
) -> None:
    await record_event(
        session,
        EventType.trigger_loop_stopped,
        actor_id=None,
        via=Via.trigger,
        ticket_id=ticket.id,
        data={
            "ticket_id": ticket.id,
            "passes": passes,
            "fired": [{"id": f.trigger.id, "title": f.trigger.title} for f in fired],
        },
    )

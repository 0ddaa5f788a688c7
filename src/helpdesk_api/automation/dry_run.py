"""``POST /v1/triggers/dry-run``: what the active triggers would do to a ticket, and why.

The run is the real one (the same compiled triggers, engine, reference checks and
``apply_planned`` the pipeline's reaction agrees with), stopped before anything is written:
every trigger is explained condition by condition against the facts it was last evaluated
on — the facts it fired on, or the ticket as the triggers that fired left it.
"""

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.automation.actions import PlannedChange
from helpdesk_api.automation.applying import Applier, References, load_references
from helpdesk_api.automation.engine import CompiledTrigger, calendars_named, run_triggers
from helpdesk_api.automation.explain import RuleExplanation, explain
from helpdesk_api.automation.facts import TicketFacts
from helpdesk_api.automation.facts_loading import load_facts, open_calendars
from helpdesk_api.automation.fields import Field
from helpdesk_api.automation.schemas import (
    ConditionResult,
    DryRunRequest,
    DryRunResult,
    HypotheticalChange,
    PlannedChangeRead,
    TriggerOutcome,
)
from helpdesk_api.core.errors import InvalidInput, NotFound
from helpdesk_api.core.tags import normalize_tags
from helpdesk_api.models import Ticket
from helpdesk_api.statuses.service import statuses_by_id

_SHOWN = (
    Field.status_id,
    Field.status_category,
    Field.priority,
    Field.type,
    Field.group_id,
    Field.assignee_id,
    Field.tags,
    Field.satisfaction,
)


def _plain(value: Any) -> Any:
    """JSON-ready: sets as sorted lists, nested the same."""
    if isinstance(value, frozenset | set):
        return sorted(value, key=str)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def _facts(
    session: AsyncSession,
    ticket: Ticket,
    change: HypotheticalChange,
    calendar_ids: Iterable[int],
    now: datetime,
) -> TicketFacts:
    base = await load_facts(
        session,
        ticket,
        update_type=change.update_type,
        via=change.via,
        actor_role=change.actor_role,
        comment_text=change.comment.body if change.comment else None,
        comment_public=bool(change.comment and change.comment.public),
        sla_events=change.sla_events,
        open_calendars=await open_calendars(session, calendar_ids, now),
    )
    values: dict[Field, Any] = {}
    if change.status_id is not None:
        statuses = await statuses_by_id(session, [change.status_id])
        status = statuses.get(change.status_id)
        if status is None:
            raise InvalidInput(
                f"Ticket status {change.status_id} does not exist.",
                loc=("body", "change", "status_id"),
            )
        values[Field.status_id] = status.id
        values[Field.status_category] = status.category
    for name in ("priority", "type", "group_id", "assignee_id"):
        value = getattr(change, name)
        if value is not None:
            values[Field(name)] = value
    if change.tags is not None:
        tags = normalize_tags(change.tags, loc=("body", "change", "tags"))
        values[Field.tags] = tags
    return base.with_values(values)


def _conditions(explanation: RuleExplanation) -> list[ConditionResult]:
    return [
        ConditionResult(
            group=c.group,
            index=c.index,
            field=c.field,
            operator=c.operator,
            expected=_plain(c.expected),
            actual=_plain(c.actual),
            held=c.held,
        )
        for c in explanation.conditions
    ]


def _changes(
    planned: Iterable[PlannedChange], references: References, facts: TicketFacts
) -> list[PlannedChangeRead]:
    return [
        PlannedChangeRead(
            action=p.action.action,
            kind=p.kind,
            field=p.field.value if p.field is not None else None,
            before=_plain(p.before),
            after=_plain(p.after),
            error=references.problem(p, facts),
        )
        for p in planned
    ]


async def dry_run(
    session: AsyncSession,
    request: DryRunRequest,
    triggers: tuple[CompiledTrigger, ...],
    now: datetime,
    active: AbstractSet[int] | None = None,
) -> DryRunResult:
    """``now``: when the pretended change happens (business-hours conditions); ``active``:
    which of ``triggers`` are active (None: all)."""
    ticket = await session.get(Ticket, request.ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket {request.ticket_id} does not exist.")
    facts = await _facts(
        session, ticket, request.change or HypotheticalChange(), calendars_named(triggers), now
    )
    references = await load_references(session, triggers, facts)
    applier = Applier(references, facts)
    outcomes: dict[int, TriggerOutcome] = {}

    def apply(trigger: CompiledTrigger, planned: list[PlannedChange]) -> TicketFacts:
        before = applier.facts
        outcomes[trigger.id] = TriggerOutcome(
            id=trigger.id,
            title=trigger.title,
            position=trigger.position,
            active=active is None or trigger.id in active,
            matched=True,
            fired=True,
            conditions=_conditions(explain(trigger.conditions, before)),
            changes=_changes(planned, references, before),
        )
        return applier.apply(trigger, planned)

    result = run_triggers(triggers, lambda: facts, apply)
    final = result.facts or facts
    ordered = sorted(triggers, key=lambda t: (t.position, t.id))
    listed = []
    for trigger in ordered:
        outcome = outcomes.get(trigger.id)
        if outcome is None:
            explanation = explain(trigger.conditions, final)
            outcome = TriggerOutcome(
                id=trigger.id,
                title=trigger.title,
                position=trigger.position,
                active=active is None or trigger.id in active,
                matched=explanation.matched,
                fired=False,
                conditions=_conditions(explanation),
                changes=[],
            )
        listed.append(outcome)
    return DryRunResult(
        ticket_id=ticket.id,
        triggers=listed,
        fired=[f.trigger.id for f in result.fired],
        passes=result.passes,
        loop_stopped=result.loop_stopped,
        ticket={name.value: _plain(final.current(name)) for name in _SHOWN},
    )

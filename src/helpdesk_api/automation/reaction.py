"""The ``Stage.automation`` reaction: run the active triggers on a ticket change and write
what they change, as the follow-up round of the change, by ``Actor.system(Via.trigger)``.

Three steps, so the engine stays pure:

1. **Read** (async): the compiled triggers from the process cache (one version query), the
   change's facts (``facts_of_change``: at most two small queries), and whether each group,
   agent and status the triggers name can be used now (``References``, only for the ids the
   triggers name).
2. **Run** (sync): ``engine.run_triggers``; its ``apply`` step checks each planned change
   against the references, drops one that cannot be applied (a deleted group, an inactive
   agent) with the trigger's error, and returns the facts after the rest.
3. **Write** (async): the accepted changes into ``change.follow_up_by(TRIGGER_ACTOR)``, each
   trigger's changes after an audit note ``{"field": "trigger", "to": {"id", "title"}}``;
   errors into the trigger's ``last_error``; ``trigger.loop_stopped`` when the engine gave up.

The follow-up round comes back through the pipeline by ``Via.trigger`` and is skipped here:
each trigger fires at most once per change, and the engine has already re-run the triggers
on its own changes.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.automation.actions import PlannedChange, apply_planned
from helpdesk_api.automation.applying import (
    ERROR_REFRESH,
    Applier,
    load_references,
    record_error,
    write_planned,
)
from helpdesk_api.automation.engine import CompiledTrigger, EngineResult, run_triggers
from helpdesk_api.automation.facts import TicketFacts
from helpdesk_api.automation.fields import SLA_EVENT_NAMES, SLA_EVENTS, UpdateType
from helpdesk_api.automation.store import TriggerCache
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import (
    BusinessCalendar,
    CcKind,
    Organization,
    Ticket,
    TicketCc,
    TicketComment,
    Trigger,
    User,
    Via,
)
from helpdesk_api.sla.business_time import is_open
from helpdesk_api.sla.calendars import to_business_calendar
from helpdesk_api.tickets import TicketChange

TRIGGER_ACTOR = Actor.system(Via.trigger)


async def open_calendars(
    session: AsyncSession, calendar_ids: Iterable[int], now: datetime
) -> set[int]:
    """Which of ``calendar_ids`` are within business hours at ``now`` (one query, only when
    a rule names one); a deleted calendar is never open."""
    ids = set(calendar_ids)
    if not ids:
        return set()
    rows = await session.scalars(select(BusinessCalendar).where(BusinessCalendar.id.in_(ids)))
    return {row.id for row in rows if is_open(to_business_calendar(row), now)}


async def facts_of_change(
    session: AsyncSession, change: TicketChange, calendar_ids: Iterable[int] = ()
) -> TicketFacts:
    """The facts of one round of a change: the ticket's columns, the round's ChangeSet, and
    in one query its comment's text, the requester's and organisation's tags, the
    requester's locale and the CCs."""
    changes = change.changes
    return await load_facts(
        session,
        change.ticket,
        update_type=UpdateType.created if change.created else UpdateType.changed,
        via=change.actor.via,
        actor_role=change.actor.role,
        comment_text=None,
        comment_id=changes.comment_id,
        comment_public=changes.comment_public,
        changes=changes.changes,
        sla_events=sla_events_of(changes.changes),
        open_calendars=await open_calendars(session, calendar_ids, change.now),
    )


def at_a_glance(change: TicketChange) -> TicketFacts:
    """The change's facts without a query: what ``LOADED_FIELDS`` name is left empty (the
    comment's text is blank but present when there is a comment)."""
    ticket, changes = change.ticket, change.changes
    return TicketFacts.of(
        update_type=UpdateType.created if change.created else UpdateType.changed,
        status_id=ticket.status_id,
        status_category=ticket.status_category,
        priority=ticket.priority,
        type=ticket.type,
        via=change.actor.via,
        group_id=ticket.group_id,
        assignee_id=ticket.assignee_id,
        requester_id=ticket.requester_id,
        organization_id=ticket.organization_id,
        tags=ticket.tags,
        comment_text="" if changes.comment_id is not None else None,
        comment_public=changes.comment_public,
        subject=ticket.subject,
        actor_role=change.actor.role,
        sla_events=sla_events_of(changes.changes),
        changes=changes.changes,
    )


def sla_events_of(changes: Sequence[Mapping[str, Any]]) -> list[str]:
    """``first_reply_time.breached`` for the SLA job's ``sla.first_reply`` notes."""
    events = []
    for entry in changes:
        name = entry["field"]
        if name.startswith("sla.") and entry.get("to") in SLA_EVENTS:
            events.append(f"{name.removeprefix('sla.')}_time.{entry['to']}")
    return [e for e in events if e in SLA_EVENT_NAMES]


@cache
def _facts_statement(with_organization: bool, with_comment: bool) -> Select[Any]:
    """Built once per shape: building the statement cost the reaction more than running it
    (py-spy on the triggers bench). A ticket without an organisation, or a change without
    a comment, does not ask for one."""
    organization_tags = (
        select(Organization.tags)
        .where(Organization.id == bindparam("organization_id"))
        .scalar_subquery()
        if with_organization
        else null()
    )
    cc_ids = (
        select(func.array_agg(TicketCc.user_id))
        .where(TicketCc.ticket_id == bindparam("ticket_id"), TicketCc.kind == CcKind.cc)
        .scalar_subquery()
    )
    comment_body = (
        select(TicketComment.body)
        .where(TicketComment.id == bindparam("comment_id"))
        .scalar_subquery()
        if with_comment
        else null()
    )
    return select(
        User.tags,
        User.locale,
        organization_tags.label("organization_tags"),
        cc_ids.label("cc_ids"),
        comment_body.label("comment_body"),
    ).where(User.id == bindparam("requester_id"))


async def load_facts(
    session: AsyncSession,
    ticket: Ticket,
    *,
    update_type: UpdateType,
    via: str,
    actor_role: str | None,
    comment_text: str | None,
    comment_public: bool,
    comment_id: int | None = None,
    changes: Sequence[Mapping[str, Any]] = (),
    sla_events: Iterable[str] = (),
    open_calendars: Iterable[int] = (),
) -> TicketFacts:
    """The facts of ``ticket`` for a change described by the rest: one query for what is
    not on the ticket row (the requester's and organisation's tags, the locale, the CCs,
    and the text of comment ``comment_id`` when given instead of ``comment_text``)."""
    statement = _facts_statement(ticket.organization_id is not None, comment_id is not None)
    row = (
        await session.execute(
            statement,
            {
                "requester_id": ticket.requester_id,
                "organization_id": ticket.organization_id,
                "ticket_id": ticket.id,
                "comment_id": comment_id,
            },
        )
    ).one()
    if comment_id is not None:
        comment_text = row.comment_body
    return TicketFacts.of(
        update_type=update_type,
        status_id=ticket.status_id,
        status_category=ticket.status_category,
        priority=ticket.priority,
        type=ticket.type,
        via=via,
        group_id=ticket.group_id,
        assignee_id=ticket.assignee_id,
        requester_id=ticket.requester_id,
        organization_id=ticket.organization_id,
        tags=ticket.tags,
        requester_tags=row.tags or (),
        organization_tags=row.organization_tags or (),
        requester_locale=row.locale,
        comment_text=comment_text,
        comment_public=comment_public,
        subject=ticket.subject,
        actor_role=actor_role,
        sla_events=sla_events,
        cc_user_ids=row.cc_ids or (),
        open_calendars=open_calendars,
        changes=changes,
    )


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
        triggers = await self.cache.triggers(session)
        if not triggers:
            return
        # Most changes meet no trigger's change-only conditions (the default acknowledgement
        # wants a customer's new ticket): those read nothing more.
        glance = at_a_glance(change)
        candidates = frozenset(t.id for t in triggers if t.may_match(glance))
        if not candidates:
            return
        facts = await facts_of_change(session, change, self.cache.calendar_ids)
        run, result = await _run_with_references(session, triggers, facts, candidates)
        if run is None:
            return
        # A trigger whose every action was a no-op (or failed) leaves no audit: a follow-up
        # round holding only a note would tell webhooks of a change that did not happen.
        written = [(trigger, accepted) for trigger, accepted in run.accepted if accepted]
        if written:
            follow_up = change.follow_up_by(TRIGGER_ACTOR)
            for trigger, accepted in written:
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
                    run.errors.setdefault(trigger.id, error)
        for trigger_id, error in run.errors.items():
            await self._record_error(session, trigger_id, error, change.now)
        if result.loop_stopped:
            await _record_loop_stopped(session, change.ticket, result)

    async def _record_error(
        self, session: AsyncSession, trigger_id: int, error: str, now: datetime
    ) -> None:
        last = self._recorded.get(trigger_id)
        if last is not None and last[0] == error and timedelta(0) <= now - last[1] < ERROR_REFRESH:
            return
        await record_error(session, Trigger, trigger_id, error, now)
        self._recorded[trigger_id] = (error, now)


async def _run_with_references(
    session: AsyncSession,
    triggers: tuple[CompiledTrigger, ...],
    facts: TicketFacts,
    candidates: frozenset[int] | None = None,
) -> tuple[Applier | None, EngineResult]:
    """Run the triggers with what their actions point at loaded only for those that fire.

    A pure first run (``apply_planned``, nothing checked) tells which fire; their groups,
    agents and statuses are loaded and the real run checks against them. A rejected change
    can make the real run differ, so if it fired a trigger not loaded for, it runs again
    with those loaded too. A hundred triggers that do not fire cost no query at all.
    ``candidates``: the triggers that may match the change as it came (``may_match``), the
    only ones the first pass evaluates; None: all.
    ``(None, probe)`` when none fires."""
    simulated = [facts]

    def simulate(_: CompiledTrigger, planned: list[PlannedChange]) -> TicketFacts:
        simulated[0] = apply_planned(simulated[0], planned)
        return simulated[0]

    probe = run_triggers(triggers, lambda: facts, simulate, first_pass=candidates)
    loaded = {f.trigger.id for f in probe.fired}
    if not loaded:
        return None, probe
    while True:
        chosen = [t for t in triggers if t.id in loaded]
        run = Applier(await load_references(session, chosen, facts), facts)
        result = run_triggers(triggers, lambda: facts, run.apply, first_pass=candidates)
        fired = {f.trigger.id for f in result.fired}
        if fired <= loaded:
            return run, result
        loaded |= fired


async def _record_loop_stopped(session: AsyncSession, ticket: Ticket, result: EngineResult) -> None:
    await record_event(
        session,
        EventType.trigger_loop_stopped,
        actor_id=None,
        via=Via.trigger,
        ticket_id=ticket.id,
        data={
            "ticket_id": ticket.id,
            "passes": result.passes,
            "fired": [{"id": f.trigger.id, "title": f.trigger.title} for f in result.fired],
        },
    )

"""The worker's ``automation-sweep`` job: time-based automations, once a minute.

For each active automation, in position order:

1. **Candidates** (``candidates.candidates_query``): one indexed query, a page of ``BATCH``
   ticket ids at a time, at most ``MAX_PER_RULE`` per sweep (the job asks to run again at
   once when a rule had more).
2. **Act** (``act_on``), one transaction per ticket, so one bad ticket holds up nothing
   else: lock the ticket (``FOR UPDATE SKIP LOCKED``: one a person is changing right now
   waits for the next sweep), check every condition again against the row as it is now —
   a ticket changed since step 1 is not acted on stale — insert the firing
   ``(automation, ticket, period)`` with ``ON CONFLICT DO NOTHING`` (another worker that
   got there first wins; this one does nothing), then plan the actions and write them as
   ``Actor.system(Via.automation)`` through the ticket pipeline, after an audit note naming
   the automation (``applying.write_planned``), and commit.

An action that cannot be applied (a deleted group) goes to the automation's ``last_error``
and the rest of the change commits. An error that stops the change (a rule loop) rolls it
back and is recorded, with the firing, in a transaction of its own, so a failing ticket is
not retried every minute.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from helpdesk_api.automation.actions import plan
from helpdesk_api.automation.applying import (
    Applier,
    load_references,
    record_error,
    write_planned,
)
from helpdesk_api.automation.candidates import (
    FALLBACK_CALENDAR,
    CompiledAutomation,
    Cursor,
    candidates_query,
    compile_automation,
)
from helpdesk_api.automation.facts_loading import facts_of_change
from helpdesk_api.automation.timing import AutomationRule
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.errors import ProblemError
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import (
    Automation,
    AutomationFiring,
    BusinessCalendar,
    SlaPolicy,
    StatusCategory,
    Ticket,
    TicketSla,
    Via,
)
from helpdesk_api.sla import business_time
from helpdesk_api.sla.calendars import to_business_calendar
from helpdesk_api.tickets import SESSION_KEY, ChangeSet, TicketChange, commit_change

logger = logging.getLogger(__name__)

AUTOMATION_ACTOR = Actor.system(Via.automation)
BATCH = 100
MAX_PER_RULE = 1_000
SWEEP_SECONDS = 60.0


class Outcome(StrEnum):
    acted = "acted"  # fired (its changes written, or only its errors recorded)
    locked = "locked"  # someone holds the ticket: the next sweep looks again
    stale = "stale"  # no longer matches, as the row is now
    already = "already"  # fired in this period already (another worker, an earlier sweep)
    failed = "failed"  # the change was rolled back; the error is on the automation


async def load_automations(session: AsyncSession) -> list[CompiledAutomation]:
    """The active automations, compiled, in position order; a stored rule that no longer
    validates is skipped and logged."""
    rows = await session.execute(
        select(Automation.id, Automation.title, Automation.position, Automation.rule)
        .where(Automation.is_active)
        .order_by(Automation.position, Automation.id)
    )
    compiled = []
    for row in rows:
        try:
            rule = AutomationRule.model_validate(row.rule)
        except ValidationError:
            logger.exception("automation %s has a rule that no longer validates", row.id)
            continue
        automation = compile_automation(
            id=row.id, title=row.title, position=row.position, rule=rule
        )
        if automation is not None:
            compiled.append(automation)
    return compiled


async def candidates(
    session: AsyncSession,
    automation: CompiledAutomation,
    now: datetime,
    *,
    after: Cursor | None = None,
    limit: int = BATCH,
) -> list[Cursor]:
    """``(anchor, ticket id)`` of the next candidates, oldest anchor first."""
    query = candidates_query(automation, now, after=after, limit=limit)
    if query is None:
        return []
    rows = (await session.execute(query)).all()
    return [(row[1], row[0]) for row in rows]


@dataclass
class Calendars:
    """Business calendars as the arithmetic takes them, per sweep: the ticket's SLA
    policy's, else the desk's first, else ``FALLBACK_CALENDAR``."""

    by_id: dict[int, business_time.BusinessCalendar] = field(default_factory=dict)
    default: business_time.BusinessCalendar | None = None

    async def of(self, session: AsyncSession, ticket: Ticket) -> business_time.BusinessCalendar:
        row = await session.scalar(
            select(BusinessCalendar)
            .join(SlaPolicy, SlaPolicy.calendar_id == BusinessCalendar.id)
            .join(TicketSla, TicketSla.policy_id == SlaPolicy.id)
            .where(TicketSla.ticket_id == ticket.id)
        )
        if row is not None:
            if row.id not in self.by_id:
                self.by_id[row.id] = to_business_calendar(row)
            return self.by_id[row.id]
        if self.default is None:
            first = await session.scalar(select(BusinessCalendar).order_by(BusinessCalendar.id))
            self.default = FALLBACK_CALENDAR if first is None else to_business_calendar(first)
        return self.default


async def act_on(
    session: AsyncSession,
    automation: CompiledAutomation,
    ticket_id: int,
    now: datetime,
    calendars: Calendars | None = None,
    *,
    settings: Settings,
) -> Outcome:
    """Check and act on one candidate in ``session``'s transaction; the caller commits."""
    ticket = await session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(undefer(Ticket.last_requester_reply_at), undefer(Ticket.last_agent_reply_at))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if ticket is None:
        return Outcome.locked
    if ticket.status_category == StatusCategory.closed:
        return Outcome.stale
    calendar = FALLBACK_CALENDAR
    if automation.needs_calendar:
        calendar = await (calendars or Calendars()).of(session, ticket)
    # The facts of a change that changes nothing, by the automation: update_type
    # "changed", via "automation", no actor role, no comment.
    at_rest = TicketChange(
        ticket=ticket,
        changes=ChangeSet(),
        actor=AUTOMATION_ACTOR,
        now=now,
        created=False,
        depth=0,
        pipeline=session.info[SESSION_KEY],
    )
    facts = await facts_of_change(session, at_rest)
    if not automation.holds(ticket, facts, now, calendar):
        return Outcome.stale
    if not await _record_firing(session, automation, ticket, now):
        return Outcome.already
    run = Applier(await load_references(session, [automation], facts), facts)
    run.apply(automation, plan(automation.actions, facts))
    accepted = run.accepted[0][1]
    if accepted:
        changes = ChangeSet()
        error = await write_planned(
            session,
            ticket,
            changes,
            kind="automation",
            rule=automation,
            accepted=accepted,
            references=run.references,
            actor=AUTOMATION_ACTOR,
            now=now,
            settings=settings,
        )
        if error is not None:
            run.errors.setdefault(automation.id, error)
        ticket.updated_at = now
        await commit_change(session, ticket, changes, actor=AUTOMATION_ACTOR, now=now)
    for automation_id, error in run.errors.items():
        await record_error(session, Automation, automation_id, error, now)
    return Outcome.acted


async def _record_firing(
    session: AsyncSession, automation: CompiledAutomation, ticket: Ticket, now: datetime
) -> bool:
    """False when this period has fired already (the row exists, perhaps just committed by
    another worker: the ticket's lock orders the two)."""
    period_key = automation.period_key(ticket)
    inserted = await session.scalar(
        insert(AutomationFiring)
        .values(
            automation_id=automation.id, ticket_id=ticket.id, period_key=period_key, fired_at=now
        )
        .on_conflict_do_nothing()
        .returning(AutomationFiring.ticket_id)
    )
    return inserted is not None


async def _act_in_own_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
    automation: CompiledAutomation,
    ticket_id: int,
    now: datetime,
    calendars: Calendars,
    settings: Settings,
) -> Outcome:
    try:
        async with sessionmaker() as session:
            outcome = await act_on(
                session, automation, ticket_id, now, calendars, settings=settings
            )
            await session.commit()
            return outcome
    except ProblemError as exc:
        error = f"ticket {ticket_id}: {exc}"
    except Exception as exc:  # a bug must not stop every other automation
        logger.exception("automation %s failed on ticket %s", automation.id, ticket_id)
        error = f"ticket {ticket_id}: internal error ({type(exc).__name__})"
    try:
        async with sessionmaker() as session:
            ticket = await session.scalar(
                select(Ticket).where(Ticket.id == ticket_id).with_for_update(skip_locked=True)
            )
            if ticket is not None:
                await _record_firing(session, automation, ticket, now)
            await record_error(session, Automation, automation.id, error, now)
            await session.commit()
    except Exception:  # the automation was deleted meanwhile, the database went away, …
        logger.exception("could not record automation %s's error", automation.id)
    return Outcome.failed


@dataclass
class SweepResult:
    outcomes: dict[int, dict[Outcome, int]] = field(default_factory=dict)  # per automation
    more: bool = False  # a rule had more candidates than one sweep takes

    def count(self, outcome: Outcome) -> int:
        return sum(o.get(outcome, 0) for o in self.outcomes.values())


async def sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    settings: Settings,
    resume: dict[int, Cursor] | None = None,
    max_per_rule: int = MAX_PER_RULE,
) -> SweepResult:
    """One pass of every active automation at ``now``. ``resume`` holds where a rule
    stopped at ``MAX_PER_RULE`` last time (updated in place), so candidates that keep
    failing the exact check (business hours not yet reached) cannot starve the rest."""
    resume = {} if resume is None else resume
    result = SweepResult()
    calendars = Calendars()
    async with sessionmaker() as session:
        automations = await load_automations(session)
    for automation in automations:
        counts = result.outcomes.setdefault(automation.id, {})
        after = resume.pop(automation.id, None)
        seen = 0
        while True:
            async with sessionmaker() as session:
                page = await candidates(
                    session, automation, now, after=after, limit=min(BATCH, max_per_rule)
                )
            for _, ticket_id in page:
                outcome = await _act_in_own_transaction(
                    sessionmaker, automation, ticket_id, now, calendars, settings
                )
                counts[outcome] = counts.get(outcome, 0) + 1
            seen += len(page)
            if len(page) < min(BATCH, max_per_rule):
                break
            after = page[-1]
            if seen >= max_per_rule:
                resume[automation.id] = after
                result.more = True
                break
    return result


class AutomationSweepJob:
    """Runs ``sweep`` at most once a minute per worker process (the worker also wakes its
    jobs on every new event); sooner when a rule had more candidates than a sweep takes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.last_run: datetime | None = None
        self.resume: dict[int, Cursor] = {}

    async def __call__(
        self, sessionmaker: async_sessionmaker[AsyncSession], now: datetime
    ) -> float | None:
        if self.last_run is not None:
            waited = (now - self.last_run).total_seconds()
            if 0 <= waited < SWEEP_SECONDS:
                return SWEEP_SECONDS - waited
        result = await sweep(sessionmaker, now, settings=self.settings, resume=self.resume)
        self.last_run = None if result.more else now
        return 0.0 if result.more else SWEEP_SECONDS

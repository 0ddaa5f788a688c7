"""Keeping each ticket's SLA clocks, in the transaction of every ticket change (a ticket hook).

Metrics, as measured here:

* ``first_reply`` runs from creation to the first public comment by an agent or admin;
* ``next_reply`` runs from a customer's public comment to the next agent's public reply,
  once the first reply is no longer pending (one cycle per exchange);
* ``periodic_update`` runs from each agent's public reply to the next one;
* ``resolution`` runs from creation until the ticket is solved; reopening runs it on from
  where it stood, the time in between counting as a pause.

Solving (or closing) a ticket fulfils every waiting clock. A clock pauses while the ticket's
status category is in its target's ``pause_on``.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from helpdesk_api.models import (
    Organization,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
    StatusCategory,
    Ticket,
    TicketSla,
    TicketSlaMetric,
    User,
)
from helpdesk_api.sla import business_time, clock
from helpdesk_api.sla.clock import Target
from helpdesk_api.sla.matching import TicketFacts, choose
from helpdesk_api.sla.rows import clock_of, make_target, policy_calendars, store, target_of
from helpdesk_api.tickets import TicketChange, remember_expected_first_reply

# A change of any of these may make another policy (or another target) apply.
RESELECT_ON = ("priority", "group_id", "organization_id", "tags", "channel", "type", "requester_id")
STOPPED = frozenset({StatusCategory.solved.value, StatusCategory.closed.value})


@dataclass
class _Spec:
    row: SlaTarget
    target: Target


def _moved(change: TicketChange) -> tuple[str | None, str] | None:
    """The status category before and after the change, if it moved."""
    new = StatusCategory(change.ticket.status_category).value
    if change.created:
        return None, new
    entries = [c for c in change.changes.changes if c["field"] == "status"]
    if not entries:
        return None
    old = StatusCategory(entries[0]["from"]["category"]).value
    return (old, new) if old != new else None


def _reply(change: TicketChange) -> str | None:
    if change.created or change.changes.comment_id is None or not change.changes.comment_public:
        return None
    if change.actor.is_agent:
        return "agent"
    if change.actor.is_customer:
        return "customer"
    return None


async def _facts(session: AsyncSession, ticket: Ticket, *, segments: bool) -> TicketFacts:
    """``segments``: whether a policy asks for tags, and so for the requester's and the
    organisation's too; most help desks' policies do not, and their tickets' changes are
    spared two reads."""
    tags = set(ticket.tags)
    if segments:
        tags.update(
            await session.scalar(select(User.tags).where(User.id == ticket.requester_id)) or []
        )
    if segments and ticket.organization_id is not None:
        tags.update(
            await session.scalar(
                select(Organization.tags).where(Organization.id == ticket.organization_id)
            )
            or []
        )
    return TicketFacts(
        priority=ticket.priority,
        group_id=ticket.group_id,
        organization_id=ticket.organization_id,
        tags=frozenset(tags),
        channel=ticket.channel,
        type=ticket.type,
    )


async def _apply_policy(
    session: AsyncSession, ticket: Ticket, state: TicketSla | None, now: datetime
) -> TicketSla | None:
    """Choose the policy again; the ticket keeps ``applied_at`` if it stays the same."""
    policies = list(
        await session.scalars(
            select(SlaPolicy)
            .where(SlaPolicy.is_active.is_(True))
            .order_by(SlaPolicy.position, SlaPolicy.id)
        )
    )
    chosen = None
    if policies:
        segments = any(policy.conditions.get("tags") for policy in policies)
        chosen = choose(policies, await _facts(session, ticket, segments=segments))
    if chosen is None:
        if state is not None:
            await session.delete(state)
        return None
    policy, matched = chosen
    if state is None:
        state = TicketSla(ticket_id=ticket.id, policy_id=policy.id, matched=matched, applied_at=now)
        session.add(state)
    elif state.policy_id != policy.id or state.matched != matched:
        if state.policy_id != policy.id:
            state.applied_at = now
        state.policy_id, state.matched = policy.id, matched
    return state


class _Tracker:
    def __init__(
        self,
        session: AsyncSession,
        ticket: Ticket,
        now: datetime,
        rows: list[TicketSlaMetric],
        specs: dict[str, _Spec],
        calendars: dict[int, business_time.BusinessCalendar],
    ) -> None:
        self.session, self.ticket, self.now = session, ticket, now
        self.specs, self.calendars = specs, calendars
        self.category = StatusCategory(ticket.status_category).value
        self.current: dict[str, TicketSlaMetric] = {}
        self.cycles: dict[str, int] = {}
        for row in rows:  # ordered by cycle: the last one of each metric is current
            self.current[row.metric] = row
            self.cycles[row.metric] = max(self.cycles.get(row.metric, 0), row.cycle)

    def _waiting(self, metric: str) -> TicketSlaMetric | None:
        row = self.current.get(metric)
        return row if row is not None and clock_of(row).waiting else None

    def start(self, metric: str, started_at: datetime) -> None:
        spec = self.specs.get(metric)
        if spec is None or self.category in STOPPED:
            return
        cycle = self.cycles.get(metric, 0) + 1
        row = TicketSlaMetric(
            ticket_id=self.ticket.id,
            metric=metric,
            cycle=cycle,
            policy_id=spec.row.policy_id,
            target_minutes=spec.row.minutes,
            business_hours=spec.row.business_hours,
            pause_on=list(spec.row.pause_on),
        )
        store(row, clock.start(spec.target, started_at, self.now, category=self.category))
        self.session.add(row)
        self.current[metric], self.cycles[metric] = row, cycle

    def fulfil(self, metric: str) -> None:
        row = self._waiting(metric)
        if row is not None:
            store(row, clock.fulfil(clock_of(row), self.now))

    async def retarget(self, *, created: bool) -> None:
        """Bring running clocks to the applicable targets; start the ones that apply anew."""
        for metric, row in list(self.current.items()):
            if row.status not in (clock.ACTIVE, clock.PAUSED):
                continue
            spec = self.specs.get(metric)
            if spec is None:
                await self.session.delete(row)
                del self.current[metric]
                continue
            if (row.policy_id, row.target_minutes, row.business_hours, list(row.pause_on)) == (
                spec.row.policy_id, spec.row.minutes, spec.row.business_hours,
                list(spec.row.pause_on),
            ):  # fmt: skip
                continue
            moved = clock.retarget(
                clock_of(row), target_of(row, self.calendars), spec.target, self.now
            )
            row.policy_id, row.target_minutes = spec.row.policy_id, spec.row.minutes
            row.business_hours, row.pause_on = spec.row.business_hours, list(spec.row.pause_on)
            store(row, clock.apply_category(moved, spec.target, self.category, self.now))
        created_at = self.ticket.created_at
        if SlaMetric.first_reply not in self.current and self.ticket.first_agent_reply_at is None:
            self.start(SlaMetric.first_reply, created_at)
        if SlaMetric.resolution not in self.current:
            self.start(SlaMetric.resolution, created_at)
        if created and SlaMetric.first_reply not in self.specs:
            # Without a first-reply target, the request itself waits for a next reply.
            self.start(SlaMetric.next_reply, created_at)

    def agent_replied(self) -> None:
        self.fulfil(SlaMetric.first_reply)
        self.fulfil(SlaMetric.next_reply)
        self.fulfil(SlaMetric.periodic_update)
        self.start(SlaMetric.periodic_update, self.now)

    def customer_wrote(self) -> None:
        if self._waiting(SlaMetric.first_reply) or self._waiting(SlaMetric.next_reply):
            return  # already waiting for an agent: no new clock
        self.start(SlaMetric.next_reply, self.now)

    def status_moved(self, old: str | None, new: str) -> None:
        if new in STOPPED and old not in STOPPED:
            for metric in list(self.current):
                self.fulfil(metric)
        elif old in STOPPED and new not in STOPPED:
            row = self.current.get(SlaMetric.resolution)
            if row is not None:
                target = target_of(row, self.calendars)
                store(row, clock.reopen(clock_of(row), target, self.now, category=new))
        for row in self.current.values():
            if row.status in (clock.ACTIVE, clock.PAUSED):
                target = target_of(row, self.calendars)
                store(row, clock.apply_category(clock_of(row), target, new, self.now))

    async def save(self) -> None:
        """Keep ``tickets.sla_next_breach_at`` (the list sort and filter) in step."""
        deadlines = [
            row.breach_at
            for row in self.current.values()
            if row.breach_at is not None and clock_of(row).running
        ]
        value = min(deadlines, default=None)
        first_reply = self.current.get(SlaMetric.first_reply)
        remember_expected_first_reply(
            self.session,
            self.ticket.id,
            first_reply.breach_at
            if first_reply is not None and first_reply.achieved_at is None
            else None,
        )
        if inspect(self.ticket).attrs.sla_next_breach_at.loaded_value != value:
            # A plain UPDATE: the ticket's version (its ETag) tracks what people changed.
            await self.session.execute(
                update(Ticket)
                .where(Ticket.id == self.ticket.id)
                .values(sla_next_breach_at=value)
                .execution_options(synchronize_session=False)
            )
            set_committed_value(self.ticket, "sla_next_breach_at", value)
        await self.session.flush()


async def _specs(
    session: AsyncSession,
    state: TicketSla | None,
    priority: str,
    calendars: dict[int, business_time.BusinessCalendar],
) -> dict[str, _Spec]:
    if state is None:
        return {}
    rows = await session.scalars(
        select(SlaTarget).where(
            SlaTarget.policy_id == state.policy_id, SlaTarget.priority == priority
        )
    )
    calendar = calendars[state.policy_id]
    return {
        r.metric: _Spec(r, make_target(r.minutes, r.business_hours, r.pause_on, calendar))
        for r in rows
    }


async def on_ticket_change(session: AsyncSession, change: TicketChange) -> None:
    """The pipeline's reaction: re-choose the policy, then move the clocks, all at
    ``change.now``."""
    ticket = change.ticket
    reselect = change.created or any(change.changes.changed(f) for f in RESELECT_ON)
    moved = _moved(change)
    reply = _reply(change)
    if not (reselect or moved or reply):
        return
    # A ticket being created has no clocks yet: no need to ask.
    rows = (
        []
        if change.created
        else list(
            await session.scalars(
                select(TicketSlaMetric)
                .where(TicketSlaMetric.ticket_id == ticket.id)
                .order_by(TicketSlaMetric.cycle, TicketSlaMetric.id)
                .with_for_update()
            )
        )
    )
    state = None if change.created else await session.get(TicketSla, ticket.id)
    if reselect:
        state = await _apply_policy(session, ticket, state, change.now)
    if state is None and not rows:
        remember_expected_first_reply(session, ticket.id, None)
        return
    policy_ids = {r.policy_id for r in rows} | ({state.policy_id} if state else set())
    calendars = await policy_calendars(session, policy_ids)
    specs = await _specs(session, state, ticket.priority, calendars)
    tracker = _Tracker(session, ticket, change.now, rows, specs, calendars)
    if reselect:
        await tracker.retarget(created=change.created)
    if reply == "agent":
        tracker.agent_replied()
    elif reply == "customer":
        tracker.customer_wrote()
    if moved:
        tracker.status_moved(*moved)
    await tracker.save()

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

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.automation.actions import (
    AddNote,
    ChangeKind,
    PlannedChange,
    SetAssignee,
    SetGroup,
    SetStatus,
    apply_planned,
)
from helpdesk_api.automation.engine import CompiledTrigger, EngineResult, run_triggers
from helpdesk_api.automation.facts import TicketFacts
from helpdesk_api.automation.fields import Field, UpdateType
from helpdesk_api.automation.store import TriggerCache
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.models import (
    CcKind,
    Group,
    GroupMembership,
    Organization,
    Role,
    StatusCategory,
    Ticket,
    TicketCc,
    TicketComment,
    TicketStatus,
    Trigger,
    User,
    Via,
)
from helpdesk_api.statuses.service import statuses_by_id
from helpdesk_api.tickets import (
    ChangeSet,
    NewComment,
    TicketChange,
    add_comment,
    adjust_tag_counts,
    set_priority,
    set_status,
)

TRIGGER_ACTOR = Actor.system(Via.trigger)
ASSIGNABLE_ROLES = (Role.agent, Role.admin)
# A failing trigger on a busy desk would rewrite its row on every change: once a minute is
# enough for an admin to see it, and keeps the row from becoming a lock hot spot.
ERROR_REFRESH = timedelta(minutes=1)


async def facts_of_change(session: AsyncSession, change: TicketChange) -> TicketFacts:
    """The facts of one round of a change: the ticket's columns, the round's ChangeSet, its
    comment's text (one query, when it has one) and the requester's and organisation's
    tags, the requester's locale and the CCs (one query)."""
    ticket, changes = change.ticket, change.changes
    comment_text: str | None = None
    if changes.comment_id is not None:
        comment_text = await session.scalar(
            select(TicketComment.body).where(TicketComment.id == changes.comment_id)
        )
    organization_tags = (
        select(Organization.tags).where(Organization.id == ticket.organization_id).scalar_subquery()
    )
    cc_ids = (
        select(func.array_agg(TicketCc.user_id))
        .where(TicketCc.ticket_id == ticket.id, TicketCc.kind == CcKind.cc)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(
                User.tags,
                User.locale,
                organization_tags.label("organization_tags"),
                cc_ids.label("cc_ids"),
            ).where(User.id == ticket.requester_id)
        )
    ).one()
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
        requester_tags=row.tags or (),
        organization_tags=row.organization_tags or (),
        requester_locale=row.locale,
        comment_text=comment_text,
        comment_public=changes.comment_public,
        subject=ticket.subject,
        actor_role=change.actor.role,
        cc_user_ids=row.cc_ids or (),
        changes=changes.changes,
    )


@dataclass(frozen=True)
class References:
    """What the triggers' actions point at, as usable now."""

    statuses: dict[int, TicketStatus]  # active ones
    groups: frozenset[int]  # active ones
    agents: frozenset[int]  # active agents and admins
    memberships: frozenset[tuple[int, int]]  # (group_id, user_id) of those agents

    def problem(self, planned: PlannedChange, facts: TicketFacts) -> str | None:
        """Why ``planned`` cannot be applied to a ticket with ``facts``; None if it can."""
        action = planned.action
        if planned.kind is ChangeKind.field:
            if isinstance(action, SetStatus) and action.status_id not in self.statuses:
                return f"status {action.status_id} does not exist or is inactive"
            if isinstance(action, SetGroup) and action.group_id is not None:
                if action.group_id not in self.groups:
                    return f"group {action.group_id} does not exist or is inactive"
                if not self._may_work_in(facts.assignee_id, action.group_id):
                    return (
                        f"the assignee {facts.assignee_id} is not a member of group "
                        f"{action.group_id}"
                    )
            if isinstance(action, SetAssignee) and action.assignee_id is not None:
                if action.assignee_id not in self.agents:
                    return f"user {action.assignee_id} is not an active agent"
                if not self._may_work_in(action.assignee_id, facts.group_id):
                    return f"user {action.assignee_id} is not a member of group {facts.group_id}"
            return None
        if isinstance(action, AddNote):
            return None
        # TODO(triggers): public_reply (needs an author), notify, call_webhook, route, add_cc.
        return f"the action {action.action} is not supported yet"

    def _may_work_in(self, assignee_id: int | None, group_id: int | None) -> bool:
        if assignee_id is None or group_id is None:
            return True
        return (group_id, assignee_id) in self.memberships


async def load_references(
    session: AsyncSession, triggers: Iterable[CompiledTrigger], facts: TicketFacts
) -> References:
    status_ids, group_ids, agent_ids = set(), set(), set()
    for trigger in triggers:
        for action in trigger.actions:
            if isinstance(action, SetStatus):
                status_ids.add(action.status_id)
            elif isinstance(action, SetGroup) and action.group_id is not None:
                group_ids.add(action.group_id)
            elif isinstance(action, SetAssignee) and action.assignee_id is not None:
                agent_ids.add(action.assignee_id)
    statuses: dict[int, TicketStatus] = {}
    if status_ids:
        known = await statuses_by_id(session, status_ids)
        statuses = {i: s for i, s in known.items() if i in status_ids and s.is_active}
    groups: set[int] = set()
    if group_ids:
        groups = set(
            await session.scalars(select(Group.id).where(Group.id.in_(group_ids), Group.is_active))
        )
    agents: set[int] = set()
    if agent_ids:
        agents = set(
            await session.scalars(
                select(User.id).where(
                    User.id.in_(agent_ids), User.is_active, User.role.in_(ASSIGNABLE_ROLES)
                )
            )
        )
    members = agents | ({facts.assignee_id} if facts.assignee_id is not None else set())
    memberships: set[tuple[int, int]] = set()
    if members and (group_ids or agents):
        rows = await session.execute(
            select(GroupMembership.group_id, GroupMembership.user_id).where(
                GroupMembership.user_id.in_(members)
            )
        )
        memberships = {(r.group_id, r.user_id) for r in rows}
    return References(
        statuses=statuses,
        groups=frozenset(groups),
        agents=frozenset(agents),
        memberships=frozenset(memberships),
    )


@dataclass
class _Run:
    """The engine's ``apply`` step: accepts what can be applied, remembers the rest."""

    references: References
    facts: TicketFacts
    accepted: list[tuple[CompiledTrigger, list[PlannedChange]]] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)  # trigger id → its first error

    def apply(self, trigger: CompiledTrigger, planned: list[PlannedChange]) -> TicketFacts:
        accepted: list[PlannedChange] = []
        categories = {i: s.category for i, s in self.references.statuses.items()}
        for change in planned:
            if self.facts.status_category == StatusCategory.closed:
                break  # a closed ticket no longer changes, by anyone (not the rule's fault)
            problem = self.references.problem(change, self.facts)
            if problem is not None:
                self.errors.setdefault(trigger.id, f"{change.action.action}: {problem}")
                continue
            accepted.append(change)
            self.facts = apply_planned(self.facts, [change], status_categories=categories)
        self.accepted.append((trigger, accepted))
        return self.facts


class TriggerReaction:
    """One per pipeline: it holds the process cache of compiled triggers."""

    def __init__(self) -> None:
        self.cache = TriggerCache()

    async def __call__(self, session: AsyncSession, change: TicketChange) -> None:
        if change.actor.via == Via.trigger:
            return  # the triggers' own follow-up: they already ran on what they changed
        triggers = await self.cache.triggers(session)
        if not triggers:
            return
        facts = await facts_of_change(session, change)
        run = _Run(await load_references(session, triggers, facts), facts)
        result = run_triggers(triggers, lambda: facts, run.apply)
        # A trigger whose every action was a no-op (or failed) leaves no audit: a follow-up
        # round holding only a note would tell webhooks of a change that did not happen.
        written = [(trigger, accepted) for trigger, accepted in run.accepted if accepted]
        if written:
            follow_up = change.follow_up_by(TRIGGER_ACTOR)
            for trigger, accepted in written:
                await _write(session, change, follow_up, trigger, accepted, run.references)
        for trigger_id, error in run.errors.items():
            await _record_error(session, trigger_id, error, change.now)
        if result.loop_stopped:
            await _record_loop_stopped(session, change.ticket, result)


async def _write(
    session: AsyncSession,
    change: TicketChange,
    follow_up: ChangeSet,
    trigger: CompiledTrigger,
    accepted: list[PlannedChange],
    references: References,
) -> None:
    ticket, now = change.ticket, change.now
    follow_up.note("trigger", None, {"id": trigger.id, "title": trigger.title})
    for planned in accepted:
        if planned.kind is ChangeKind.comment and isinstance(planned.action, AddNote):
            note = NewComment(body=planned.action.body, public=False)
            await add_comment(session, ticket, note, actor=TRIGGER_ACTOR, changes=follow_up,
                              now=now)  # fmt: skip
        elif planned.field is Field.status_id:
            set_status(ticket, references.statuses[planned.after], follow_up, now)
        elif planned.field is Field.priority:
            set_priority(ticket, planned.after, follow_up)
        elif planned.field is Field.tags:
            await _set_tags(session, ticket, follow_up, planned.after)
        elif planned.field in (Field.type, Field.group_id, Field.assignee_id):
            follow_up.set(ticket, planned.field.value, planned.after)


async def _set_tags(
    session: AsyncSession, ticket: Ticket, changes: ChangeSet, after: frozenset[str]
) -> None:
    current = list(ticket.tags)
    tags = [t for t in current if t in after] + sorted(after - set(current))
    if changes.set(ticket, "tags", tags):
        await adjust_tag_counts(session, set(tags) - set(current), set(current) - set(tags))


async def _record_error(session: AsyncSession, trigger_id: int, error: str, now: datetime) -> None:
    """The trigger's ``last_error``; not its ``version`` (an admin's edit is not stale for
    it) nor the set version (the compiled rule did not change)."""
    await session.execute(
        update(Trigger)
        .where(
            Trigger.id == trigger_id,
            or_(
                Trigger.last_error.is_distinct_from(error),
                Trigger.last_error_at.is_(None),
                Trigger.last_error_at < now - ERROR_REFRESH,
            ),
        )
        .values(last_error=error, last_error_at=now)
        .execution_options(synchronize_session=False)
    )


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

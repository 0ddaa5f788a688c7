"""Applying what a rule planned, shared by triggers (``reaction``) and time-based
automations (the worker): check each planned change against what exists now
(``References``), and write the accepted ones into a ``ChangeSet`` under the rule's actor,
after an audit note naming the rule, so "why did this change?" is answered from the audit.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.automation import effects
from helpdesk_api.automation.actions import (
    Action,
    AddCc,
    AddNote,
    CallWebhook,
    ChangeKind,
    Notify,
    PlannedChange,
    PublicReply,
    Route,
    SetAssignee,
    SetGroup,
    SetStatus,
    apply_planned,
)
from helpdesk_api.automation.facts import TicketFacts
from helpdesk_api.automation.fields import Field
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import (
    ASSIGNABLE_ROLES,
    Group,
    GroupMembership,
    StatusCategory,
    Ticket,
    TicketStatus,
    User,
    Webhook,
)
from helpdesk_api.routing import SkipReason, route_ticket
from helpdesk_api.statuses.service import statuses_by_id
from helpdesk_api.tickets import (
    ChangeSet,
    adjust_tag_counts,
    set_priority,
    set_status,
)

# A failing rule on a busy desk would rewrite its row on every change: once a minute is
# enough for an admin to see it, and keeps the row from becoming a lock hot spot.
ERROR_REFRESH = timedelta(minutes=1)


class Rule(Protocol):
    """What the applier and the writer need of a trigger or an automation."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def actions(self) -> tuple[Action, ...]: ...


@dataclass(frozen=True)
class References:
    """What the triggers' actions point at, as usable now."""

    statuses: dict[int, TicketStatus]  # active ones
    groups: frozenset[int]  # active ones
    agents: frozenset[int]  # active agents and admins
    memberships: frozenset[tuple[int, int]]  # (group_id, user_id) of those agents
    people: frozenset[int] = frozenset()  # active users the rules copy on tickets
    webhooks: frozenset[int] = frozenset()  # active webhooks the rules call

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
        if isinstance(action, AddNote | PublicReply):
            return None
        if isinstance(action, AddCc) and action.user_id not in self.people:
            return f"user {action.user_id} does not exist or is inactive"
        if isinstance(action, Notify):
            if action.user_id is not None and action.user_id not in self.agents:
                return f"user {action.user_id} is not an active agent"
            return None
        if isinstance(action, CallWebhook):
            if action.webhook_id not in self.webhooks:
                return f"webhook {action.webhook_id} does not exist or is disabled"
            return None
        # Route, and AddCc of a usable user: the writer decides (routing records
        # assignment.failed when nobody fits, which is not the rule's fault).
        return None

    def _may_work_in(self, assignee_id: int | None, group_id: int | None) -> bool:
        if assignee_id is None or group_id is None:
            return True
        return (group_id, assignee_id) in self.memberships


async def load_references(
    session: AsyncSession, rules: Iterable[Rule], facts: TicketFacts
) -> References:
    """Whether each status, group and agent the ``rules`` name can be used now: one query
    per kind, only for the ids they name."""
    status_ids, group_ids, agent_ids = set(), set(), set()
    people_ids: set[int] = set()
    webhook_ids: set[int] = set()
    for rule in rules:
        for action in rule.actions:
            if isinstance(action, SetStatus):
                status_ids.add(action.status_id)
            elif isinstance(action, SetGroup) and action.group_id is not None:
                group_ids.add(action.group_id)
            elif isinstance(action, SetAssignee) and action.assignee_id is not None:
                agent_ids.add(action.assignee_id)
            elif isinstance(action, Notify) and action.user_id is not None:
                agent_ids.add(action.user_id)
            elif isinstance(action, AddCc):
                people_ids.add(action.user_id)
            elif isinstance(action, CallWebhook):
                webhook_ids.add(action.webhook_id)
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
    people: set[int] = set()
    if people_ids:
        people = set(
            await session.scalars(select(User.id).where(User.id.in_(people_ids), User.is_active))
        )
    webhooks: set[int] = set()
    if webhook_ids:
        webhooks = set(
            await session.scalars(
                select(Webhook.id).where(Webhook.id.in_(webhook_ids), Webhook.is_active)
            )
        )
    return References(
        statuses=statuses,
        groups=frozenset(groups),
        agents=frozenset(agents),
        memberships=frozenset(memberships),
        people=frozenset(people),
        webhooks=frozenset(webhooks),
    )


@dataclass
class Applier:
    """The engine's ``apply`` step: accepts what can be applied, remembers the rest."""

    references: References
    facts: TicketFacts
    accepted: list[tuple[Rule, list[PlannedChange]]] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)  # rule id → its first error

    def apply(self, trigger: Rule, planned: list[PlannedChange]) -> TicketFacts:
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


async def write_planned(
    session: AsyncSession,
    ticket: Ticket,
    changes: ChangeSet,
    *,
    kind: str,
    rule: Rule,
    accepted: list[PlannedChange],
    references: References,
    actor: Actor,
    now: datetime,
    settings: Settings,
) -> str | None:
    """Write ``accepted`` into ``changes`` after an audit note ``{"field": kind, "to": {id,
    title}}`` (``kind``: "trigger" or "automation"). Returns the first effect that could not
    be done (wording that fails on this ticket, no mailbox), for the rule's ``last_error``;
    the others are still written."""
    follow_up = changes
    follow_up.note(kind, None, {"id": rule.id, "title": rule.title})
    error: str | None = None
    for planned in accepted:
        action = planned.action
        problem: str | None = None
        if isinstance(action, AddNote | PublicReply):
            problem = await effects.comment(
                session, ticket, follow_up, action, settings=settings, actor=actor, now=now
            )
        elif isinstance(action, AddCc):
            await effects.add_cc(session, ticket, follow_up, action.user_id)
        elif isinstance(action, Notify):
            problem = await effects.notify(
                session, ticket, follow_up, action, rule=f"{kind} {rule.id}"
            )
        elif isinstance(action, CallWebhook):
            problem = await effects.call_webhook(
                session, ticket, action, settings=settings, now=now
            )
        elif isinstance(action, Route):
            outcome = await route_ticket(
                session, ticket, follow_up, actor=actor, group_id=action.group_id
            )
            if outcome.skipped is SkipReason.manual:
                problem = f"group {outcome.group_id} is routed manually"
        elif planned.field is Field.status_id:
            set_status(ticket, references.statuses[planned.after], follow_up, now)
        elif planned.field is Field.priority:
            set_priority(ticket, planned.after, follow_up)
        elif planned.field is Field.tags:
            await set_tags(session, ticket, follow_up, planned.after)
        elif planned.field in (Field.type, Field.group_id, Field.assignee_id):
            follow_up.set(ticket, planned.field.value, planned.after)
        if problem is not None and error is None:
            error = f"{action.action}: {problem}"
    return error


async def set_tags(
    session: AsyncSession, ticket: Ticket, changes: ChangeSet, after: frozenset[str]
) -> None:
    current = list(ticket.tags)
    tags = [t for t in current if t in after] + sorted(after - set(current))
    if changes.set(ticket, "tags", tags):
        await adjust_tag_counts(session, set(tags) - set(current), set(current) - set(tags))


async def record_error(
    session: AsyncSession, model: Any, rule_id: int, error: str, now: datetime
) -> None:
    """The rule's ``last_error`` (``model``: ``Trigger`` or ``Automation``, any model with
    ``last_error`` and ``last_error_at``); not its ``version`` (an admin's edit is not stale
    for it) nor the set version (the compiled rule did not change)."""
    await session.execute(
        update(model)
        .where(
            model.id == rule_id,
            or_(
                model.last_error.is_distinct_from(error),
                model.last_error_at.is_(None),
                model.last_error_at < now - ERROR_REFRESH,
            ),
        )
        .values(last_error=error, last_error_at=now)
        .execution_options(synchronize_session=False)
    )

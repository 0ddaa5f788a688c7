"""Triggers as admins manage them. Every write bumps the trigger set's version in the same
transaction (``store.bump_version``), so each process recompiles at its next ticket change.
Never commits: the request path does.

A rule is refused when saved, with the path of the bad part, if it cannot work: what the
schema already refuses (an unknown field, operator or value type), and what only the
database can tell — an action naming a deleted or inactive status, group, agent or webhook,
and wording that does not render against the sample context.
"""

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.automation.actions import (
    Action,
    AddCc,
    CallWebhook,
    Notify,
    Route,
    SetAssignee,
    SetGroup,
    SetStatus,
)
from helpdesk_api.automation.conditions import RuleConditions
from helpdesk_api.automation.custom_conditions import canonical
from helpdesk_api.automation.engine import TriggerRule
from helpdesk_api.automation.fields import Field
from helpdesk_api.automation.rules import list_in_order, read_fields
from helpdesk_api.automation.schemas import (
    TriggerCreate,
    TriggerOrder,
    TriggerPage,
    TriggerRead,
    TriggerUpdate,
)
from helpdesk_api.automation.store import bump_version
from helpdesk_api.automation.wording import template_problems
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.models import (
    ASSIGNABLE_ROLES,
    BusinessCalendar,
    Group,
    TicketStatus,
    Trigger,
    User,
    Webhook,
)

TRIGGERS = AdminResource("trigger", "/v1/triggers", Trigger, "Trigger")


def rule_of(trigger: Trigger) -> TriggerRule:
    return TriggerRule.model_validate(trigger.rule)


def to_read(trigger: Trigger) -> TriggerRead:
    return TriggerRead(**read_fields(trigger, rule_of(trigger)))


async def list_triggers(
    session: AsyncSession, *, active: bool | None, limit: int, cursor: str | None
) -> TriggerPage:
    triggers, next_cursor = await list_in_order(
        session, Trigger, active=active, limit=limit, cursor=cursor
    )
    return TriggerPage(data=[to_read(t) for t in triggers], next_cursor=next_cursor)


async def _ids_present(session: AsyncSession, column: Any, ids: set[int], *where: Any) -> set[int]:
    if not ids:
        return set()
    return set(await session.scalars(select(column).where(column.in_(ids), *where)))


async def check_actions(session: AsyncSession, actions: list[Action]) -> None:
    """422 at ``("body", "actions", i, attribute)`` for the first action that cannot work."""
    statuses = {a.status_id for a in actions if isinstance(a, SetStatus)}
    groups = {a.group_id for a in actions if isinstance(a, SetGroup | Route) and a.group_id}
    agents = {a.assignee_id for a in actions if isinstance(a, SetAssignee) and a.assignee_id}
    agents |= {a.user_id for a in actions if isinstance(a, Notify) and a.user_id}
    people = {a.user_id for a in actions if isinstance(a, AddCc)}
    webhooks = {a.webhook_id for a in actions if isinstance(a, CallWebhook)}
    usable_statuses = await _ids_present(session, TicketStatus.id, statuses, TicketStatus.is_active)
    usable_groups = await _ids_present(session, Group.id, groups, Group.is_active)
    usable_agents = await _ids_present(
        session, User.id, agents, User.is_active, User.role.in_(ASSIGNABLE_ROLES)
    )
    usable_people = await _ids_present(session, User.id, people, User.is_active)
    usable_webhooks = await _ids_present(session, Webhook.id, webhooks, Webhook.is_active)
    for index, action in enumerate(actions):
        problem = _reference_problem(
            action, usable_statuses, usable_groups, usable_agents, usable_people, usable_webhooks
        )
        if problem is None:
            problems = template_problems(action)
            problem = problems[0] if problems else None
        if problem is not None:
            attribute, message = problem
            raise InvalidInput(
                f"actions[{index}] ({action.action}): {attribute} {message.rstrip('.')}.",
                loc=("body", "actions", index, action.action, attribute),
            )


async def check_conditions(session: AsyncSession, conditions: RuleConditions) -> None:
    """422 at the condition's value when a business-hours condition names no calendar."""
    named = [
        (group, index, c.value)
        for group, items in (("all", conditions.all), ("any", conditions.any))
        for index, c in enumerate(items)
        if c.field is Field.within_business_hours
    ]
    known = await _ids_present(session, BusinessCalendar.id, {v for _, _, v in named})
    for group, index, calendar_id in named:
        if calendar_id not in known:
            raise InvalidInput(
                f"conditions.{group}[{index}]: business calendar {calendar_id} does not exist.",
                loc=("body", "conditions", group, index, "value"),
            )


def _reference_problem(
    action: Action,
    statuses: set[int],
    groups: set[int],
    agents: set[int],
    people: set[int],
    webhooks: set[int],
) -> tuple[str, str] | None:
    if isinstance(action, SetStatus) and action.status_id not in statuses:
        return "status_id", f"{action.status_id} does not exist or is inactive"
    if isinstance(action, SetGroup | Route) and action.group_id and action.group_id not in groups:
        return "group_id", f"{action.group_id} does not exist or is inactive"
    if isinstance(action, SetAssignee) and action.assignee_id and action.assignee_id not in agents:
        return "assignee_id", f"{action.assignee_id} is not an active agent"
    if isinstance(action, Notify) and action.user_id and action.user_id not in agents:
        return "user_id", f"{action.user_id} is not an active agent"
    if isinstance(action, AddCc) and action.user_id not in people:
        return "user_id", f"{action.user_id} does not exist or is inactive"
    if isinstance(action, CallWebhook) and action.webhook_id not in webhooks:
        return "webhook_id", f"{action.webhook_id} does not exist or is disabled"
    return None


def _rule_dump(conditions: RuleConditions, actions: list[Action]) -> dict[str, Any]:
    return TriggerRule(conditions=conditions, actions=actions).model_dump(mode="json")


async def create_trigger(session: AsyncSession, actor: Principal, data: TriggerCreate) -> Trigger:
    conditions = await canonical(session, data.conditions)
    await check_conditions(session, conditions)
    await check_actions(session, data.actions)
    position = data.position
    if position is None:
        last = await session.scalar(select(func.max(Trigger.position)))
        position = 0 if last is None else last + 1
    trigger = Trigger(
        title=data.title,
        description=data.description,
        is_active=data.active,
        position=position,
        rule=_rule_dump(conditions, data.actions),
    )
    session.add(trigger)
    await session.flush()
    await bump_version(session)
    await session.refresh(trigger)
    await TRIGGERS.record_created(session, actor_id=actor.user_id, read=to_read(trigger))
    return trigger


def _snapshot(trigger: Trigger) -> dict[str, Any]:
    read = to_read(trigger).model_dump(mode="json")
    return {k: read[k] for k in ("title", "description", "active", "position")} | {
        "conditions": read["conditions"],
        "actions": read["actions"],
    }


async def update_trigger(
    session: AsyncSession, actor: Principal, trigger: Trigger, data: TriggerUpdate
) -> Trigger:
    fields = data.model_dump(exclude_unset=True)
    before = _snapshot(trigger)
    rule = rule_of(trigger)
    conditions = rule.conditions
    if "conditions" in fields:
        conditions = await canonical(session, data.conditions)
        await check_conditions(session, conditions)
    if "actions" in fields:
        await check_actions(session, data.actions)
    if "conditions" in fields or "actions" in fields:
        actions = data.actions if "actions" in fields else list(rule.actions)
        trigger.rule = _rule_dump(conditions, actions)
    for name, attribute in (
        ("title", "title"),
        ("description", "description"),
        ("active", "is_active"),
        ("position", "position"),
    ):
        if name in fields:
            setattr(trigger, attribute, fields[name])
    changes = field_changes(before, _snapshot(trigger))
    if changes:
        trigger.updated_at = func.now()
        await session.flush()
        await bump_version(session)
        await session.refresh(trigger)
        await TRIGGERS.record_updated(
            session, actor_id=actor.user_id, resource_id=trigger.id, changes=changes
        )
    return trigger


async def delete_trigger(session: AsyncSession, actor: Principal, trigger: Trigger) -> None:
    read = to_read(trigger)
    await session.execute(delete(Trigger).where(Trigger.id == trigger.id))
    await bump_version(session)
    await record_event(
        session,
        EventType.trigger_deleted,
        actor_id=actor.user_id,
        data={"trigger": read.model_dump(mode="json")},
    )


async def reorder_triggers(session: AsyncSession, actor: Principal, order: TriggerOrder) -> None:
    """Positions 0, 1, 2… in the given order; the list must name every trigger once."""
    triggers = {
        t.id: t
        for t in await session.scalars(select(Trigger).order_by(Trigger.id).with_for_update())
    }
    seen: set[int] = set()
    for index, trigger_id in enumerate(order.trigger_ids):
        if trigger_id in seen:
            raise InvalidInput(
                f"Trigger {trigger_id} is listed twice.", loc=("body", "trigger_ids", index)
            )
        if trigger_id not in triggers:
            raise InvalidInput(
                f"Trigger {trigger_id} does not exist.", loc=("body", "trigger_ids", index)
            )
        seen.add(trigger_id)
    missing = sorted(triggers.keys() - seen)
    if missing:
        raise InvalidInput(
            f"The order must list every trigger; missing: {', '.join(map(str, missing))}.",
            loc=("body", "trigger_ids"),
        )
    moved = False
    for position, trigger_id in enumerate(order.trigger_ids):
        trigger = triggers[trigger_id]
        if trigger.position != position:
            changes = field_changes({"position": trigger.position}, {"position": position})
            trigger.position = position
            trigger.updated_at = func.now()
            moved = True
            await TRIGGERS.record_updated(
                session, actor_id=actor.user_id, resource_id=trigger_id, changes=changes
            )
    if moved:
        await session.flush()
        await bump_version(session)

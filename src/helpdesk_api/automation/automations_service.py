"""Time-based automations as admins manage them. Never commits: the request path does.

A rule is refused when saved, with the path of the bad part, if it cannot work: what the
schema refuses (an unknown field, operator or value, a condition only a change has), an
action on a deleted or inactive status, group, agent or webhook and wording that does not
render (the triggers' ``service.check_actions``), a rule without a time condition that
bounds its query (``timing.UNBOUNDED``), and one that never undoes its own conditions
(``nullifying``).
"""

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.automation.actions import Action, SetStatus
from helpdesk_api.automation.automations_schemas import (
    AutomationCreate,
    AutomationPage,
    AutomationRead,
    AutomationUpdate,
)
from helpdesk_api.automation.custom_conditions import canonical
from helpdesk_api.automation.nullifying import NOT_NULLIFYING, nullifies
from helpdesk_api.automation.rules import list_in_order, read_fields
from helpdesk_api.automation.service import check_actions
from helpdesk_api.automation.timing import UNBOUNDED, AutomationConditions, AutomationRule
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.models import Automation, TicketStatus

AUTOMATIONS = AdminResource("automation", "/v1/automations", Automation, "Automation")


def rule_of(automation: Automation) -> AutomationRule:
    return AutomationRule.model_validate(automation.rule)


def to_read(automation: Automation) -> AutomationRead:
    return AutomationRead(**read_fields(automation, rule_of(automation)))


async def list_automations(
    session: AsyncSession, *, active: bool | None, limit: int, cursor: str | None
) -> AutomationPage:
    rows, next_cursor = await list_in_order(
        session, Automation, active=active, limit=limit, cursor=cursor
    )
    return AutomationPage(data=[to_read(a) for a in rows], next_cursor=next_cursor)


async def checked_rule(
    session: AsyncSession,
    conditions: AutomationConditions,
    actions: list[Action],
    *,
    new_actions: bool = True,
) -> AutomationRule:
    """The rule, once it can work; 422 at the path of what cannot. What the actions name is
    checked when they are new (as for triggers: an edit of the conditions alone is not
    refused for a group deleted since)."""
    conditions = await canonical(session, conditions)
    rule = AutomationRule(conditions=conditions, actions=actions)
    if rule.bounding() is None:
        raise InvalidInput(UNBOUNDED, loc=("body", "conditions", "all"))
    if new_actions:
        await check_actions(session, actions)
    status_ids = {a.status_id for a in actions if isinstance(a, SetStatus)}
    categories: dict[int, str] = {}
    if status_ids:
        rows = await session.execute(
            select(TicketStatus.id, TicketStatus.category).where(TicketStatus.id.in_(status_ids))
        )
        categories = {row.id: row.category for row in rows}
    if not nullifies(rule, categories):
        raise InvalidInput(NOT_NULLIFYING, loc=("body", "actions"))
    return rule


async def create_automation(
    session: AsyncSession, actor: Principal, data: AutomationCreate
) -> Automation:
    rule = await checked_rule(session, data.conditions, data.actions)
    position = data.position
    if position is None:
        last = await session.scalar(select(func.max(Automation.position)))
        position = 0 if last is None else last + 1
    automation = Automation(
        title=data.title,
        description=data.description,
        is_active=data.active,
        position=position,
        rule=rule.model_dump(mode="json"),
    )
    session.add(automation)
    await session.flush()
    await session.refresh(automation)
    await AUTOMATIONS.record_created(session, actor_id=actor.user_id, read=to_read(automation))
    return automation


def _snapshot(automation: Automation) -> dict[str, Any]:
    read = to_read(automation).model_dump(mode="json")
    keys = ("title", "description", "active", "position", "conditions", "actions")
    return {k: read[k] for k in keys}


async def update_automation(
    session: AsyncSession, actor: Principal, automation: Automation, data: AutomationUpdate
) -> Automation:
    fields = data.model_dump(exclude_unset=True)
    before = _snapshot(automation)
    if "conditions" in fields or "actions" in fields:
        rule = rule_of(automation)
        conditions = data.conditions if "conditions" in fields else rule.conditions
        actions = data.actions if "actions" in fields else list(rule.actions)
        automation.rule = (await checked_rule(session, conditions, actions)).model_dump(mode="json")
    for name, attribute in (
        ("title", "title"),
        ("description", "description"),
        ("active", "is_active"),
        ("position", "position"),
    ):
        if name in fields:
            setattr(automation, attribute, fields[name])
    changes = field_changes(before, _snapshot(automation))
    if changes:
        automation.updated_at = func.now()
        await session.flush()
        await session.refresh(automation)
        await AUTOMATIONS.record_updated(
            session, actor_id=actor.user_id, resource_id=automation.id, changes=changes
        )
    return automation


async def delete_automation(
    session: AsyncSession, actor: Principal, automation: Automation
) -> None:
    """Its firings go with it (ON DELETE CASCADE)."""
    read = to_read(automation)
    await session.execute(delete(Automation).where(Automation.id == automation.id))
    await record_event(
        session,
        EventType.automation_deleted,
        actor_id=actor.user_id,
        data={"automation": read.model_dump(mode="json")},
    )

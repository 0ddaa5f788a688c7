"""SLA policies and their targets. Never commits."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.core.tags import normalize_tags
from helpdesk_api.models import BusinessCalendar, Group, Organization, SlaPolicy, SlaTarget
from helpdesk_api.sla.schemas import (
    Conditions,
    PolicyCreate,
    PolicyRead,
    PolicyUpdate,
    TargetIn,
    TargetRead,
)

# Pause categories in a stable order, whatever order they were sent in.
_PAUSE_ORDER = ("pending", "on_hold")

POLICIES = AdminResource("sla_policy", "/v1/sla-policies", SlaPolicy, "SLA policy")


async def targets_by_policy(
    session: AsyncSession, policy_ids: Sequence[int]
) -> dict[int, list[SlaTarget]]:
    found: dict[int, list[SlaTarget]] = {pid: [] for pid in policy_ids}
    if not policy_ids:
        return found
    rows = await session.scalars(
        select(SlaTarget).where(SlaTarget.policy_id.in_(policy_ids)).order_by(SlaTarget.id)
    )
    for target in rows:
        found[target.policy_id].append(target)
    return found


def to_read(policy: SlaPolicy, targets: Sequence[SlaTarget]) -> PolicyRead:
    return PolicyRead(
        id=policy.id,
        name=policy.name,
        description=policy.description,
        position=policy.position,
        calendar_id=policy.calendar_id,
        conditions=Conditions.model_validate(policy.conditions),
        targets=[
            TargetRead(
                priority=t.priority,
                metric=t.metric,
                minutes=t.minutes,
                business_hours=t.business_hours,
                pause_on=t.pause_on,
            )
            for t in targets
        ],
        is_active=policy.is_active,
        created_at=policy.created_at,
        updated_at=policy.updated_at,
    )


async def read(session: AsyncSession, policy: SlaPolicy) -> PolicyRead:
    return to_read(policy, (await targets_by_policy(session, [policy.id]))[policy.id])


async def get_policy(
    session: AsyncSession, policy_id: int, *, for_update: bool = False
) -> SlaPolicy:
    return await POLICIES.get(session, policy_id, for_update=for_update)


async def list_policies(
    session: AsyncSession, *, is_active: bool | None, limit: int, cursor: str | None
) -> tuple[list[PolicyRead], str | None]:
    """In the order they are tried: by position, then id."""
    statement: Select[Any] = select(SlaPolicy)
    if is_active is not None:
        statement = statement.where(SlaPolicy.is_active.is_(is_active))
    policies, next_cursor = await paginate(
        session,
        statement,
        keys=[
            SortKey(SlaPolicy.position, lambda p: p.position),
            SortKey(SlaPolicy.id, lambda p: p.id),
        ],
        limit=limit,
        cursor=cursor,
        ordering="sla_policies:position",
    )
    targets = await targets_by_policy(session, [p.id for p in policies])
    return [to_read(p, targets[p.id]) for p in policies], next_cursor


async def _check_calendar(session: AsyncSession, calendar_id: int) -> None:
    if await session.get(BusinessCalendar, calendar_id) is None:
        raise InvalidInput(
            f"Business calendar {calendar_id} does not exist.", loc=("body", "calendar_id")
        )


async def _stored_conditions(session: AsyncSession, conditions: Conditions) -> dict[str, Any]:
    for field, model in (("group_id", Group), ("organization_id", Organization)):
        wanted: list[int] = getattr(conditions, field)
        if not wanted:
            continue
        found = set(await session.scalars(select(model.id).where(model.id.in_(wanted))))
        for index, value in enumerate(wanted):
            if value not in found:
                raise InvalidInput(
                    f"{field} {value} names nothing that exists.",
                    loc=("body", "conditions", field, index),
                )
    stored = conditions.model_dump(mode="json")
    stored["tags"] = normalize_tags(conditions.tags, loc=("body", "conditions", "tags"))
    # Sets, really: drop repeats so explanations list each value once.
    return {k: list(dict.fromkeys(v)) for k, v in stored.items()}


def _check_targets(targets: Sequence[TargetIn]) -> None:
    seen: set[tuple[str, str]] = set()
    for index, target in enumerate(targets):
        key = (target.priority.value, target.metric.value)
        if key in seen:
            raise InvalidInput(
                f"Two targets for {target.metric.value} at priority {target.priority.value}.",
                loc=("body", "targets", index),
                type="duplicate_target",
            )
        seen.add(key)


async def _replace_targets(
    session: AsyncSession, policy_id: int, targets: Sequence[TargetIn]
) -> None:
    await session.execute(delete(SlaTarget).where(SlaTarget.policy_id == policy_id))
    session.add_all(
        SlaTarget(
            policy_id=policy_id,
            priority=t.priority.value,
            metric=t.metric.value,
            minutes=t.minutes,
            business_hours=t.business_hours,
            pause_on=[c for c in _PAUSE_ORDER if c in t.pause_on],
        )
        for t in targets
    )
    await session.flush()


async def create_policy(session: AsyncSession, actor: Principal, data: PolicyCreate) -> SlaPolicy:
    await _check_calendar(session, data.calendar_id)
    _check_targets(data.targets)
    policy = SlaPolicy(
        name=data.name,
        description=data.description,
        position=data.position,
        calendar_id=data.calendar_id,
        conditions=await _stored_conditions(session, data.conditions),
        is_active=data.is_active,
    )
    session.add(policy)
    await session.flush()
    await _replace_targets(session, policy.id, data.targets)
    await session.refresh(policy)
    await POLICIES.record_created(session, actor_id=actor.user_id, read=await read(session, policy))
    return policy


async def update_policy(
    session: AsyncSession, actor: Principal, policy: SlaPolicy, data: PolicyUpdate
) -> SlaPolicy:
    """Tickets keep the policy they matched until a field its conditions use changes; then
    the policy is chosen again with the policies as they are."""
    fields = data.model_fields_set
    before = await read(session, policy)
    if "calendar_id" in fields:
        await _check_calendar(session, data.calendar_id)
    conditions = (
        await _stored_conditions(session, data.conditions) if "conditions" in fields else None
    )
    if "targets" in fields:
        # Before the policy's own changes: this flush must not expire the policy row.
        _check_targets(data.targets)
        await _replace_targets(session, policy.id, data.targets)
    for name in ("name", "description", "position", "calendar_id", "is_active"):
        if name in fields:
            setattr(policy, name, getattr(data, name))
    if conditions is not None:
        policy.conditions = conditions
    compared = sorted(PolicyRead.model_fields.keys() - {"created_at", "updated_at"})
    # Compare what a reader would see; only a real change bumps the version and records.
    draft = to_read(policy, (await targets_by_policy(session, [policy.id]))[policy.id])
    changes = field_changes(
        before.model_dump(mode="json"), draft.model_dump(mode="json"), fields=compared
    )
    if not changes:
        return policy
    # Also when only the targets changed: the policy's version (and ETag) must move.
    flag_modified(policy, "name")
    await session.flush()
    await session.refresh(policy)
    await POLICIES.record_updated(
        session,
        actor_id=actor.user_id,
        resource_id=policy.id,
        changes=changes,
        sla_policy=(await read(session, policy)).model_dump(mode="json"),
    )
    return policy

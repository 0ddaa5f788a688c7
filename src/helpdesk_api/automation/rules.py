"""What triggers and time-based automations share as admin-managed resources: the fields of
their read shape, and their list in firing order."""

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.models import Automation, Trigger

RuleRow = TypeVar("RuleRow", Trigger, Automation)


class Rule(Protocol):
    """A trigger's or an automation's validated rule."""

    @property
    def conditions(self) -> Any: ...
    @property
    def actions(self) -> Sequence[Any]: ...


def read_fields(row: Trigger | Automation, rule: Rule) -> dict[str, Any]:
    """A stored rule's read fields; ``rule`` is its validated ``conditions`` and ``actions``."""
    return {
        "id": row.id,
        "title": row.title,
        "description": row.description,
        "active": row.is_active,
        "position": row.position,
        "conditions": rule.conditions,
        "actions": list(rule.actions),
        "last_error": row.last_error,
        "last_error_at": row.last_error_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


async def list_in_order(
    session: AsyncSession,
    model: type[RuleRow],
    *,
    active: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[RuleRow], str | None]:
    """One page in firing order (position, then id), active or inactive ones only if asked."""
    statement = select(model)
    if active is not None:
        statement = statement.where(model.is_active.is_(active))
    return await paginate(
        session,
        statement,
        keys=[SortKey(model.position, lambda r: r.position), SortKey(model.id, lambda r: r.id)],
        limit=limit,
        cursor=cursor,
        ordering="position,id",
    )

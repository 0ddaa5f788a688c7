"""A user's history: every change recorded, read from the event log.

Every change to a user records ``user.created`` or ``user.updated`` (with ``changes``) in
the transaction that makes it, so the log is the audit trail; an expression index on the
user id the event names makes one user's history an index range.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.pagination import Page, SortKey, paginate
from helpdesk_api.models import Event
from helpdesk_api.models.event import USER_ID_SQL

# Literal, as in the index's predicate, so the planner always matches the partial index.
USER_EVENTS = text("type IN ('user.created', 'user.updated')")


class UserAuditRead(BaseModel):
    id: int
    action: Literal["created", "updated"]
    actor_id: int | None
    via: str
    changes: list[dict[str, Any]]
    created_at: datetime


class UserAuditPage(Page[UserAuditRead]):
    pass


def _read(event: Event) -> UserAuditRead:
    created = event.type == EventType.user_created
    return UserAuditRead(
        id=event.id,
        action="created" if created else "updated",
        actor_id=event.actor_id,
        via=event.actor_via,
        changes=[] if created else list(event.data.get("changes", [])),
        created_at=event.occurred_at,
    )


async def list_user_audits(
    session: AsyncSession, user_id: int, *, limit: int, cursor: str | None
) -> UserAuditPage:
    """Newest first."""
    statement = select(Event).where(
        USER_EVENTS, text(f"{USER_ID_SQL} = :user_id").bindparams(user_id=user_id)
    )
    events, next_cursor = await paginate(
        session,
        statement,
        keys=[SortKey(Event.id, lambda e: e.id, descending=True)],
        limit=limit,
        cursor=cursor,
        ordering="-id",
    )
    return UserAuditPage(data=[_read(e) for e in events], next_cursor=next_cursor)

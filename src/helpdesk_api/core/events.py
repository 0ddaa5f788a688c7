"""The one way to record a state change's event: inside the transaction that made the change.

Events wait in the session and are written together, in the order recorded, by one INSERT
just before the transaction commits (a ticket update records up to four). Whatever commits a
session (a request, a worker job, the CLI) writes them; a rollback drops them with the rest.
Inside a savepoint they are written at once, so rolling the savepoint back removes them too.
"""

from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from helpdesk_api.core.event_types import EventType
from helpdesk_api.models import Event

_PENDING = "pending_events"


async def record_event(
    session: AsyncSession,
    event_type: EventType,
    *,
    actor_id: int | None,
    data: dict[str, Any],
    via: str = "api",
    ticket_id: int | None = None,
    is_public: bool = False,
) -> None:
    row = {
        "type": event_type.value,
        "actor_id": actor_id,
        "actor_via": via,
        "ticket_id": ticket_id,
        "is_public": is_public,
        "data": data,
    }
    if session.in_nested_transaction():
        await session.execute(insert(Event).values(row))
        return
    session.info.setdefault(_PENDING, []).append(row)


@event.listens_for(Session, "before_commit")
def _write_pending_events(session: Session) -> None:
    rows = session.info.pop(_PENDING, None)
    if rows:
        session.execute(insert(Event).values(rows))


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending_events(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)

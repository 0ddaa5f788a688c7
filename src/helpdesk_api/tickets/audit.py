"""Collecting a ticket's changes once, then writing its audit and events together."""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.events import record_event
from helpdesk_api.models import Ticket, TicketAudit


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    return value


@dataclass
class ChangeSet:
    """What one request changed on one ticket, in the order it happened."""

    changes: list[dict[str, Any]] = field(default_factory=list)
    comment_id: int | None = None
    comment_public: bool = False

    def set(self, ticket: Ticket, name: str, value: Any, *, field_name: str | None = None) -> bool:
        """Assign ``ticket.name = value`` and remember it, if it differs."""
        old = getattr(ticket, name)
        if old == value:
            return False
        setattr(ticket, name, value)
        self.changes.append({"field": field_name or name, "from": _plain(old), "to": _plain(value)})
        return True

    def note(self, field_name: str, old: Any, new: Any) -> None:
        self.changes.append({"field": field_name, "from": _plain(old), "to": _plain(new)})

    def changed(self, field_name: str) -> bool:
        return any(c["field"] == field_name for c in self.changes)

    def __bool__(self) -> bool:
        return bool(self.changes) or self.comment_id is not None


async def write_audit(
    session: AsyncSession,
    ticket: Ticket,
    changes: ChangeSet,
    *,
    actor_id: int | None,
    via: str,
    ticket_data: dict[str, Any],
    created: bool = False,
) -> None:
    """The audit row and the ticket's events, in the transaction that made the change."""
    await session.execute(
        insert(TicketAudit).values(
            ticket_id=ticket.id,
            actor_id=actor_id,
            via=via,
            changes=changes.changes,
            comment_id=changes.comment_id,
        )
    )
    common: dict[str, Any] = {"actor_id": actor_id, "via": via, "ticket_id": ticket.id}
    if created:
        await record_event(
            session, "ticket.created", data={"ticket": ticket_data}, is_public=True, **common
        )
        return
    field_changes = [c for c in changes.changes if c["field"] != "comment"]
    if field_changes:
        data = {"ticket": ticket_data, "changes": field_changes}
        await record_event(session, "ticket.updated", data=data, **common)
        if changes.changed("status"):
            await record_event(
                session, "ticket.status_changed", data=data, is_public=True, **common
            )
        if changes.changed("assignee_id"):
            await record_event(session, "ticket.assigned", data=data, **common)

"""Collecting a ticket's changes once, then writing its audit and events together."""

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.models import Role, Ticket, TicketAudit
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.hooks import TicketChange, run_hooks
from helpdesk_api.tickets.representation import ticket_data as render_ticket_data


async def write_audit(
    session: AsyncSession,
    ticket: Ticket,
    changes: ChangeSet,
    *,
    actor_id: int | None,
    actor_role: Role | None,
    via: str,
    now: datetime,
    created: bool = False,
) -> None:
    """The audit row, the ticket's events and the registered hooks, in the transaction that
    made the change."""
    await session.execute(
        insert(TicketAudit).values(
            ticket_id=ticket.id,
            actor_id=actor_id,
            via=via,
            changes=changes.changes,
            comment_id=changes.comment_id,
        )
    )
    await run_hooks(
        session,
        TicketChange(
            ticket=ticket,
            changes=changes,
            actor_id=actor_id,
            actor_role=actor_role,
            via=via,
            now=now,
            created=created,
        ),
    )
    # Rendered after the hooks, so the event carries what they set (SLA due times, …).
    ticket_data = await render_ticket_data(session, ticket)
    common: dict[str, Any] = {"actor_id": actor_id, "via": via, "ticket_id": ticket.id}
    if created:
        await record_event(
            session,
            EventType.ticket_created,
            data={"ticket": ticket_data},
            is_public=True,
            **common,
        )
        return
    field_changes = [c for c in changes.changes if c["field"] != "comment"]
    if field_changes:
        data = {"ticket": ticket_data, "changes": field_changes}
        await record_event(session, EventType.ticket_updated, data=data, **common)
        if changes.changed("status"):
            await record_event(
                session, EventType.ticket_status_changed, data=data, is_public=True, **common
            )
        if changes.changed("assignee_id"):
            await record_event(session, EventType.ticket_assigned, data=data, **common)

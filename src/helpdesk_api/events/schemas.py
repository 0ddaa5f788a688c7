from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from helpdesk_api.core.event_types import EventType
from helpdesk_api.models import Event

__all__ = ["Actor", "EventPage", "EventRead", "event_read"]


class Actor(BaseModel):
    user_id: int | None
    via: str


class EventRead(BaseModel):
    id: int
    cursor: str = Field(
        description="Resume after this event: `?after=<cursor>`, or SSE Last-Event-ID."
    )
    type: str
    occurred_at: datetime
    actor: Actor
    ticket_id: int | None
    data: dict[str, Any]


class EventPage(BaseModel):
    data: list[EventRead]
    next_cursor: str = Field(
        description="Pass as `after` to continue; unchanged when there is nothing new yet."
    )


def _customer_data(event: Event) -> dict[str, Any]:
    """What a customer may know of one of their tickets' public events: the catalogue's
    ``CustomerCommentCreated`` or ``CustomerTicketEvent``, nothing staff-only."""
    if event.type == EventType.comment_created:
        return {"comment": event.data.get("comment"), "public": True}
    ticket = event.data.get("ticket") or {}
    status = ticket.get("status") or {}
    return {"ticket_id": event.ticket_id, "status_category": status.get("category")}


def event_read(event: Event, cursor: str, *, for_staff: bool) -> EventRead:
    return EventRead(
        id=event.id,
        cursor=cursor,
        type=event.type,
        occurred_at=event.occurred_at,
        actor=Actor(user_id=event.actor_id, via=event.actor_via),
        ticket_id=event.ticket_id,
        data=event.data if for_staff else _customer_data(event),
    )

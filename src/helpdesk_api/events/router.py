import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from helpdesk_api.core.auth import Authenticated, Principal, Staff
from helpdesk_api.core.db import DB, TransactionalRoute, to_libpq_url
from helpdesk_api.core.errors import OUTAGE_RETRY_AFTER_SECONDS, is_database_outage
from helpdesk_api.core.event_types import EventType
from helpdesk_api.events.feed import (
    Position,
    position_of,
    read_page,
    visible_events_after,
)
from helpdesk_api.events.notifier import EventNotifier
from helpdesk_api.events.schemas import EventPage, event_read

logger = logging.getLogger("helpdesk_api.events")
router = APIRouter(prefix="/v1", tags=["events"], route_class=TransactionalRoute)

HEARTBEAT_SECONDS = 15.0
# After a connection or a notification, look again this often for this long: events that
# committed behind a transaction still in flight become readable only when it ends.
RECHECK_SECONDS = 0.5
RECHECK_WINDOW_SECONDS = 10.0
STREAM_BATCH = 200

EventTypes = Annotated[
    list[EventType],
    Query(max_length=50, description="Only these event types (repeatable); see /v1/event-types."),
]


@router.get("/events")
async def list_events(
    session: DB,
    principal: Staff,
    after: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page")
    ] = None,
    type: EventTypes = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    """The incremental sync feed, in commit-safe order: every event exactly once, none
    skipped, even while writers are busy. Poll with `after=next_cursor`."""
    position = Position.decode(after, loc=("query", "after"))
    statement = visible_events_after(principal, position, type or None)
    events = await read_page(session, statement, limit)
    last = position_of(events[-1]) if events else position
    return EventPage(
        data=[event_read(e, position_of(e).encode(), for_staff=True) for e in events],
        next_cursor=last.encode(),
    )


def _notifier(request: Request) -> EventNotifier:
    notifier: EventNotifier | None = getattr(request.app.state, "event_notifier", None)
    if notifier is None:
        notifier = EventNotifier(to_libpq_url(request.app.state.settings.database_url))
        request.app.state.event_notifier = notifier
    return notifier


# Each message's `data` is one EventRead, as `GET /v1/events` lists them, so the schema is
# EventRead's: a generated client gets the type to parse each message into.
_STREAM_RESPONSE: dict[str, Any] = {
    "description": "Server-Sent Events. Each event is `id: <cursor>`, `event: <type>` and "
    "`data: <one EventRead as JSON>`; lines starting with `:` are keep-alives, and `retry:` "
    "asks the client to reconnect later (with `Last-Event-ID`). An event's `data` is, for "
    "staff, the payload of that type's message in the OpenAPI `webhooks` section (without "
    "its `event_id` and `ticket_id`, which are on the event); customers get "
    "`{comment, public}` for `comment.created` and `{ticket_id, status_category}` otherwise.",
    "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/EventRead"}}},
}


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    responses={200: _STREAM_RESPONSE},
)
async def stream_events(
    request: Request,
    principal: Authenticated,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=200)] = None,
    after: Annotated[str | None, Query(max_length=200)] = None,
) -> StreamingResponse:
    """Live events as Server-Sent Events. Reconnect with `Last-Event-ID` (browsers do this by
    themselves) and the stream resumes exactly where it stopped. Staff get every event;
    customers get their own tickets' public events only."""
    # Decoded before the stream opens: once it has, an error can no longer be a 422.
    if last_event_id:
        position = Position.decode(last_event_id, loc=("header", "Last-Event-ID"))
    else:
        position = Position.decode(after, loc=("query", "after"))
    return StreamingResponse(
        _stream(request, principal, position),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(request: Request, principal: Principal, position: Position) -> AsyncIterator[str]:
    # Once the response has started, an error could only reset the connection. The stream
    # ends cleanly instead when the server stops or the database goes away, and the client
    # reconnects (to another process, or a little later) with Last-Event-ID.
    stopping: asyncio.Event = request.app.state.shutting_down
    notifier = _notifier(request)
    waiter: asyncio.Event | None = None
    sessionmaker = request.app.state.sessionmaker
    loop = asyncio.get_running_loop()
    # Until this moment, new events may be committed but not yet readable: a transaction
    # elsewhere holds the horizon back, and its end sends no notification. Look again often.
    recheck_until = loop.time() + RECHECK_WINDOW_SECONDS
    last_sent = loop.time()
    try:
        waiter = await notifier.subscribe()
        yield ": connected\n\n"
        while not stopping.is_set():
            async with sessionmaker() as session:
                statement = visible_events_after(principal, position)
                events = await read_page(session, statement, STREAM_BATCH)
            for event in events:
                position = position_of(event)
                cursor = position.encode()
                body = event_read(event, cursor, for_staff=principal.is_staff)
                data = json.dumps(body.model_dump(mode="json"))
                yield f"id: {cursor}\nevent: {event.type}\ndata: {data}\n\n"
                last_sent = loop.time()
            if len(events) == STREAM_BATCH:
                continue
            rechecking = loop.time() < recheck_until
            if await notifier.wait(waiter, RECHECK_SECONDS if rechecking else HEARTBEAT_SECONDS):
                recheck_until = loop.time() + RECHECK_WINDOW_SECONDS
            if loop.time() - last_sent >= HEARTBEAT_SECONDS and not stopping.is_set():
                yield ": keepalive\n\n"
                last_sent = loop.time()
    except Exception as exc:
        if not is_database_outage(exc):
            raise
        logger.warning("event stream ended: database unavailable")
        yield f"retry: {OUTAGE_RETRY_AFTER_SECONDS * 1000}\n\n"
    finally:
        if waiter is not None:
            notifier.unsubscribe(waiter)

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from helpdesk_api.core.auth import Authenticated, Principal, Staff
from helpdesk_api.core.db import DB, TransactionalRoute, to_libpq_url
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.openapi import WEBHOOKS
from helpdesk_api.events.catalogue import event_type_list
from helpdesk_api.events.feed import (
    Position,
    customer_events_after,
    events_after,
    position_of,
    read_page,
)
from helpdesk_api.events.notifier import EventNotifier
from helpdesk_api.events.schemas import EventPage, EventTypeList, event_read
from helpdesk_api.events.webhooks import document_webhooks

router = APIRouter(prefix="/v1", tags=["events"], route_class=TransactionalRoute)
# The webhook messages join the OpenAPI document with the routes that feed on the same log.
document_webhooks(WEBHOOKS)

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


@router.get("/event-types")
async def list_event_types(principal: Staff) -> EventTypeList:
    """Every event type: what it means, whether customers receive it, and the JSON Schema of
    its `data`. The same models describe webhook messages (OpenAPI `webhooks`)."""
    return event_type_list()


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
    events = await read_page(session, events_after(position, type or None), limit)
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


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
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
    position = Position.decode(last_event_id or after, loc=("header", "Last-Event-ID"))
    return StreamingResponse(
        _stream(request, principal, position),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(request: Request, principal: Principal, position: Position) -> AsyncIterator[str]:
    notifier = _notifier(request)
    waiter = await notifier.subscribe()
    sessionmaker = request.app.state.sessionmaker
    loop = asyncio.get_running_loop()
    # Until this moment, new events may be committed but not yet readable: a transaction
    # elsewhere holds the horizon back, and its end sends no notification. Look again often.
    recheck_until = loop.time() + RECHECK_WINDOW_SECONDS
    last_sent = loop.time()
    try:
        yield ": connected\n\n"
        while True:
            async with sessionmaker() as session:
                statement = (
                    events_after(position)
                    if principal.is_staff
                    else customer_events_after(principal, position)
                )
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
            if loop.time() - last_sent >= HEARTBEAT_SECONDS:
                yield ": keepalive\n\n"
                last_sent = loop.time()
    finally:
        notifier.unsubscribe(waiter)

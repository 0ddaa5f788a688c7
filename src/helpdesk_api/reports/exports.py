"""Incremental exports for data warehouses: tickets, comments, users and ticket metrics that
changed since a time or a cursor, each change once, in commit-safe order.

Built on the event log and its reader (``events.feed``): a change to any of these records an
event in the same transaction, and the feed reads events by (tx_id, id) below the oldest
transaction still running, so nothing that commits late is skipped. A page walks events from
the cursor and returns the *current* state of each resource they name, once per page; the
cursor is the last event consumed, so a resource changed again later comes back on a later
page. ``end_of_stream`` says the page reached what is committed now: poll again later with
the same cursor.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.events.feed import (
    SAFE_HORIZON,
    Position,
    position_of,
    read_page,
    visible_events_after,
)
from helpdesk_api.models import Event, Ticket, TicketComment, TicketMetrics, User
from helpdesk_api.reports.metrics_read import to_read as metrics_to_read
from helpdesk_api.tickets import present_comments, present_to_staff
from helpdesk_api.users.service import to_read as user_to_read

BATCH = 500
_TICKET_EVENTS = [t.value for t in EventType if t.value.startswith("ticket.")]


class ExportKind(StrEnum):
    tickets = "tickets"
    comments = "comments"
    users = "users"
    ticket_metrics = "ticket-metrics"


def _ticket_id(event: Event) -> int | None:
    return event.ticket_id


def _comment_id(event: Event) -> int | None:
    comment = event.data.get("comment")
    return int(comment["id"]) if isinstance(comment, dict) and "id" in comment else None


def _user_id(event: Event) -> int | None:
    user = event.data.get("user")
    value = event.data.get("user_id") or (user.get("id") if isinstance(user, dict) else None)
    return int(value) if value is not None else None


@dataclass(frozen=True)
class _Source:
    types: Sequence[str]
    resource_id: Callable[[Event], int | None]


SOURCES = {
    # A comment changes the ticket too (updated_at, comment_count) and its metrics (replies).
    ExportKind.tickets: _Source([*_TICKET_EVENTS, EventType.comment_created.value], _ticket_id),
    ExportKind.comments: _Source([EventType.comment_created.value], _comment_id),
    ExportKind.users: _Source(
        [EventType.user_created.value, EventType.user_updated.value], _user_id
    ),
    ExportKind.ticket_metrics: _Source(
        [*_TICKET_EVENTS, EventType.comment_created.value], _ticket_id
    ),
}


async def start_position(session: AsyncSession, start_time: datetime) -> Position:
    """Just before the first transaction that recorded an event at or after ``start_time``
    (an event's time is its transaction's start), or the oldest still running, which may
    yet commit one: a page may begin with a few earlier changes, never without a later one."""
    oldest = await session.scalar(
        select(func.min(Event.tx_id)).where(Event.occurred_at >= start_time)
    )
    running = int(await session.scalar(select(SAFE_HORIZON)) or 0)
    first = running if oldest is None else min(oldest, running)
    return Position(first - 1, 2**63 - 1)


@dataclass
class ExportPage:
    ids: list[int]
    position: Position
    end_of_stream: bool


async def walk(
    session: AsyncSession, principal: Principal, kind: ExportKind, position: Position, limit: int
) -> ExportPage:
    """Up to ``limit`` distinct resources changed after ``position``, in the order they first
    changed, and the position of the last event this page covers."""
    source = SOURCES[kind]
    seen: dict[int, None] = {}
    while True:
        statement = visible_events_after(principal, position, source.types)
        events = await read_page(session, statement, BATCH)
        for event in events:
            resource = source.resource_id(event)
            if resource is not None and resource not in seen:
                if len(seen) == limit:
                    return ExportPage(list(seen), position, end_of_stream=False)
                seen[resource] = None
            position = position_of(event)
        if len(events) < BATCH:
            return ExportPage(list(seen), position, end_of_stream=True)


async def load(session: AsyncSession, kind: ExportKind, ids: list[int]) -> list[Any]:
    """The resources' current state, in the page's order; deleted ones are left out."""
    if not ids:
        return []
    order = {resource: n for n, resource in enumerate(ids)}
    if kind == ExportKind.tickets:
        tickets = list(await session.scalars(select(Ticket).where(Ticket.id.in_(ids))))
        tickets.sort(key=lambda t: order[t.id])
        return list(await present_to_staff(session, tickets))
    if kind == ExportKind.comments:
        comments = list(
            await session.scalars(select(TicketComment).where(TicketComment.id.in_(ids)))
        )
        comments.sort(key=lambda c: order[c.id])
        return list(await present_comments(session, comments, for_staff=True))
    if kind == ExportKind.users:
        users = list(
            await session.scalars(
                select(User).where(User.id.in_(ids)).options(selectinload(User.identities))
            )
        )
        users.sort(key=lambda u: order[u.id])
        return [user_to_read(u) for u in users]
    rows = list(
        await session.scalars(select(TicketMetrics).where(TicketMetrics.ticket_id.in_(ids)))
    )
    rows.sort(key=lambda r: order[r.ticket_id])
    return [metrics_to_read(r) for r in rows]


def check_start(cursor: str | None, start_time: datetime | None) -> None:
    if cursor is None and start_time is None:
        raise InvalidInput(
            "Pass start_time for a first page, then cursor (next_cursor) for the next ones.",
            loc=("query", "start_time"),
            type="missing",
        )

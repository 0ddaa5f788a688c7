"""Reading the event log in commit-safe order.

Event ids from concurrent transactions commit out of order, so the log is read by
(tx_id, id) and only below the oldest transaction still in flight: everything there has
committed or rolled back, so a reader never skips an event that commits late.
"""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import event_visibility, ticket_visibility
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.models import Event, Ticket

# The transaction id below which every transaction has finished, as a bigint like tx_id.
SAFE_HORIZON = text("(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, order=True)
class Position:
    tx_id: int = 0
    event_id: int = 0

    def encode(self) -> str:
        raw = json.dumps([self.tx_id, self.event_id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None, *, loc: tuple[str, ...]) -> "Position":
        if not value:
            return cls()
        try:
            tx_id, event_id = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            # Out of bigint range, PostgreSQL would refuse the cursor only once a stream is open.
            if not all(
                isinstance(v, int) and _BIGINT_MIN <= v <= _BIGINT_MAX for v in (tx_id, event_id)
            ):
                raise ValueError
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                "The cursor is not valid: pass next_cursor (or an event's cursor) unchanged.",
                loc=loc,
                type="cursor_invalid",
            ) from exc
        return cls(tx_id, event_id)


def _after(position: Position) -> Any:
    return tuple_(Event.tx_id, Event.id) > tuple_(position.tx_id, position.event_id)


def events_after(position: Position, types: Sequence[str] | None = None) -> Select[Any]:
    """Every event (webhook dispatch reads this; people read ``visible_events_after``)."""
    statement = select(Event).where(_after(position), Event.tx_id < SAFE_HORIZON)
    if types:
        statement = statement.where(Event.type.in_(types))
    return statement.order_by(Event.tx_id, Event.id)


def visible_events_after(
    principal: Principal, position: Position, types: Sequence[str] | None = None
) -> Select[Any]:
    """What one caller may read: staff what they may see (``access.event_visibility``),
    customers their own tickets' public events."""
    if not principal.is_staff:
        return customer_events_after(principal, position, types)
    return events_after(position, types).where(event_visibility(principal))


def customer_events_after(
    principal: Principal, position: Position, types: Sequence[str] | None = None
) -> Select[Any]:
    """A customer's own tickets' public events only."""
    visible_ticket = select(Ticket.id).where(
        Ticket.id == Event.ticket_id, ticket_visibility(principal)
    )
    statement = select(Event).where(
        _after(position),
        Event.tx_id < SAFE_HORIZON,
        Event.is_public.is_(True),
        Event.ticket_id.is_not(None),
        visible_ticket.exists(),
    )
    if types:
        statement = statement.where(Event.type.in_(types))
    return statement.order_by(Event.tx_id, Event.id)


async def read_page(session: AsyncSession, statement: Select[Any], limit: int) -> list[Event]:
    return list((await session.scalars(statement.limit(limit))).all())


def position_of(event: Event) -> Position:
    return Position(event.tx_id, event.id)

"""Turning ticket rows into what staff and customers may see."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.models import SlaMetric, Ticket, TicketSlaMetric, TicketStatus
from helpdesk_api.tickets.schemas import CustomerTicketRead, StatusRef, TicketRead


async def load_statuses(session: AsyncSession, ids: Iterable[int]) -> dict[int, TicketStatus]:
    # Statuses are a handful of rows read several times per request (event data, response):
    # remember them for the rest of this request's session.
    cache: dict[int, TicketStatus] = session.info.setdefault("ticket_statuses", {})
    missing = set(ids) - cache.keys()
    if missing:
        rows = await session.scalars(select(TicketStatus).where(TicketStatus.id.in_(missing)))
        cache.update({s.id: s for s in rows})
    return cache


async def expected_first_replies(
    session: AsyncSession, ticket_ids: Iterable[int]
) -> dict[int, datetime]:
    """When each ticket's first reply is due, while it is awaited: one query for a page."""
    wanted = set(ticket_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(TicketSlaMetric.ticket_id, TicketSlaMetric.breach_at).where(
            TicketSlaMetric.ticket_id.in_(wanted),
            TicketSlaMetric.metric == SlaMetric.first_reply,
            TicketSlaMetric.achieved_at.is_(None),
            TicketSlaMetric.breach_at.is_not(None),
        )
    )
    return {ticket_id: due for ticket_id, due in rows.all() if due is not None}


_COMPUTED = ("status", "expected_first_reply_at")
_STAFF_FIELDS = tuple(name for name in TicketRead.model_fields if name not in _COMPUTED)
_CUSTOMER_FIELDS = tuple(name for name in CustomerTicketRead.model_fields if name not in _COMPUTED)


def staff_read(
    ticket: Ticket, status: TicketStatus, expected_first_reply_at: datetime | None = None
) -> TicketRead:
    fields = {name: getattr(ticket, name) for name in _STAFF_FIELDS}
    ref = StatusRef.model_validate(
        {"id": status.id, "category": status.category, "label": status.agent_label}
    )
    return TicketRead.model_validate(
        {**fields, "status": ref, "expected_first_reply_at": expected_first_reply_at}
    )


def customer_read(
    ticket: Ticket, status: TicketStatus, expected_first_reply_at: datetime | None = None
) -> CustomerTicketRead:
    fields = {name: getattr(ticket, name) for name in _CUSTOMER_FIELDS}
    ref = StatusRef.model_validate(
        {"id": status.id, "category": status.category, "label": status.customer_label}
    )
    return CustomerTicketRead.model_validate(
        {**fields, "status": ref, "expected_first_reply_at": expected_first_reply_at}
    )


async def present(
    session: AsyncSession, principal: Principal, tickets: Sequence[Ticket]
) -> list[TicketRead | CustomerTicketRead]:
    statuses = await load_statuses(session, (t.status_id for t in tickets))
    expected = await expected_first_replies(session, (t.id for t in tickets))
    render = staff_read if principal.is_staff else customer_read
    return [render(t, statuses[t.status_id], expected.get(t.id)) for t in tickets]


async def present_one(
    session: AsyncSession, principal: Principal, ticket: Ticket
) -> TicketRead | CustomerTicketRead:
    return (await present(session, principal, [ticket]))[0]


async def ticket_data(session: AsyncSession, ticket: Ticket) -> dict[str, Any]:
    """The ticket as an agent sees it, for events."""
    status = (await load_statuses(session, [ticket.status_id]))[ticket.status_id]
    expected = await expected_first_replies(session, [ticket.id])
    return staff_read(ticket, status, expected.get(ticket.id)).model_dump(mode="json")

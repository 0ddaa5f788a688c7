"""Turning ticket rows into what staff and customers may see."""

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.models import Ticket, TicketStatus
from helpdesk_api.tickets.schemas import CustomerTicketRead, StatusRef, TicketRead


async def load_statuses(session: AsyncSession, ids: Iterable[int]) -> dict[int, TicketStatus]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(TicketStatus).where(TicketStatus.id.in_(wanted)))
    return {s.id: s for s in rows}


_STAFF_FIELDS = tuple(name for name in TicketRead.model_fields if name != "status")
_CUSTOMER_FIELDS = tuple(name for name in CustomerTicketRead.model_fields if name != "status")


def staff_read(ticket: Ticket, status: TicketStatus) -> TicketRead:
    fields = {name: getattr(ticket, name) for name in _STAFF_FIELDS}
    ref = StatusRef.model_validate(
        {"id": status.id, "category": status.category, "label": status.agent_label}
    )
    return TicketRead.model_validate({**fields, "status": ref})


def customer_read(ticket: Ticket, status: TicketStatus) -> CustomerTicketRead:
    fields = {name: getattr(ticket, name) for name in _CUSTOMER_FIELDS}
    ref = StatusRef.model_validate(
        {"id": status.id, "category": status.category, "label": status.customer_label}
    )
    return CustomerTicketRead.model_validate({**fields, "status": ref})


async def present(
    session: AsyncSession, principal: Principal, tickets: Sequence[Ticket]
) -> list[TicketRead | CustomerTicketRead]:
    statuses = await load_statuses(session, (t.status_id for t in tickets))
    render = staff_read if principal.is_staff else customer_read
    return [render(t, statuses[t.status_id]) for t in tickets]


async def present_one(
    session: AsyncSession, principal: Principal, ticket: Ticket
) -> TicketRead | CustomerTicketRead:
    return (await present(session, principal, [ticket]))[0]

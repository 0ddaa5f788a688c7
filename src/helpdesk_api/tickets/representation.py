"""Turning ticket rows into what staff and customers may see."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Label, Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.fields.values import customer_keys, definitions, for_customer
from helpdesk_api.models import FieldEntity, SlaMetric, Ticket, TicketSlaMetric, TicketStatus
from helpdesk_api.statuses.service import statuses_by_id
from helpdesk_api.tickets.include_schemas import INCLUDE_FIELDS
from helpdesk_api.tickets.schemas import CustomerTicketRead, StatusRef, TicketRead

# When each ticket's first reply is due, as far as this session knows: the SLA tracker tells
# it what it just wrote, and what was read stays true until the tracker writes again.
_EXPECTED = "expected_first_reply"


def remember_expected_first_reply(
    session: AsyncSession, ticket_id: int, due: datetime | None
) -> None:
    session.info.setdefault(_EXPECTED, {})[ticket_id] = due


# The same answer as ``expected_first_replies``, as a column of a ticket query, so reads and
# lists need no query of their own (see ``remember_expected_first_reply``). Built once:
# constructing it costs more than PostgreSQL takes to run it.
EXPECTED_FIRST_REPLY_AT: Label[datetime | None] = (
    select(TicketSlaMetric.breach_at)
    .where(
        TicketSlaMetric.ticket_id == Ticket.id,
        TicketSlaMetric.metric == SlaMetric.first_reply,
        TicketSlaMetric.achieved_at.is_(None),
        TicketSlaMetric.breach_at.is_not(None),
    )
    .order_by(TicketSlaMetric.cycle.desc())
    .limit(1)
    .scalar_subquery()
    .label("expected_first_reply_at")
)


async def expected_first_replies(
    session: AsyncSession, ticket_ids: Iterable[int]
) -> dict[int, datetime]:
    """When each ticket's first reply is due, while it is awaited: one query for a page."""
    known: dict[int, datetime | None] = session.info.setdefault(_EXPECTED, {})
    wanted = set(ticket_ids)
    unknown = wanted - known.keys()
    if unknown:
        rows = await session.execute(
            select(TicketSlaMetric.ticket_id, TicketSlaMetric.breach_at).where(
                TicketSlaMetric.ticket_id.in_(unknown),
                TicketSlaMetric.metric == SlaMetric.first_reply,
                TicketSlaMetric.achieved_at.is_(None),
                TicketSlaMetric.breach_at.is_not(None),
            )
        )
        known.update(dict.fromkeys(unknown))
        known.update(((ticket_id, due) for ticket_id, due in rows.all()))
    return {ticket_id: due for ticket_id in wanted if (due := known[ticket_id]) is not None}


# Not columns: the status is joined, the due time computed, the view a constant, the
# includes added by the route.
_COMPUTED = ("status", "expected_first_reply_at", "view", *INCLUDE_FIELDS)
_STAFF_FIELDS = tuple(name for name in TicketRead.model_fields if name not in _COMPUTED)
_CUSTOMER_FIELDS = tuple(name for name in CustomerTicketRead.model_fields if name not in _COMPUTED)


# A ticket as an ORM object or as a row of its columns (lists): both answer by attribute.
TicketLike = Ticket | Row[Any]


def _fields(ticket: TicketLike, names: tuple[str, ...]) -> dict[str, Any]:
    if isinstance(ticket, Row):
        row = ticket._asdict()  # one call, where attribute access costs one per field
        return {name: row[name] for name in names}
    return {name: getattr(ticket, name) for name in names}


def staff_read(
    ticket: TicketLike, status: TicketStatus, expected_first_reply_at: datetime | None = None
) -> TicketRead:
    fields = _fields(ticket, _STAFF_FIELDS)
    ref = StatusRef.model_validate(
        {"id": status.id, "category": status.category, "label": status.agent_label}
    )
    return TicketRead.model_validate(
        {**fields, "status": ref, "expected_first_reply_at": expected_first_reply_at}
    )


def customer_read(
    ticket: TicketLike,
    status: TicketStatus,
    expected_first_reply_at: datetime | None = None,
    field_keys: frozenset[str] = frozenset(),
) -> CustomerTicketRead:
    """``field_keys``: the custom fields a customer may read (``customer_field_keys``); any
    other value, an agent-only field's above all, is left out."""
    fields = _fields(ticket, _CUSTOMER_FIELDS)
    fields["custom_fields"] = for_customer(fields["custom_fields"], field_keys)
    ref = StatusRef.model_validate(
        {"id": status.id, "category": status.category, "label": status.customer_label}
    )
    return CustomerTicketRead.model_validate(
        {**fields, "status": ref, "expected_first_reply_at": expected_first_reply_at}
    )


async def present(
    session: AsyncSession, principal: Principal, tickets: Sequence[TicketLike]
) -> list[TicketRead | CustomerTicketRead]:
    if principal.is_staff:
        return list(await present_to_staff(session, tickets))
    statuses = await statuses_by_id(session, (t.status_id for t in tickets))
    expected = await expected_first_replies(session, (t.id for t in tickets))
    keys = await customer_field_keys(session, tickets)
    return [customer_read(t, statuses[t.status_id], expected.get(t.id), keys) for t in tickets]


async def customer_field_keys(
    session: AsyncSession, tickets: Sequence[TicketLike]
) -> frozenset[str]:
    """The custom fields customers may read, looked up only when a ticket has values."""
    if not any(t.custom_fields for t in tickets):
        return frozenset()
    return customer_keys(await definitions(session, FieldEntity.ticket))


async def present_to_staff(
    session: AsyncSession, tickets: Sequence[TicketLike]
) -> list[TicketRead]:
    """Tickets as staff see them, for routes only staff reach (merges, similar tickets)."""
    statuses = await statuses_by_id(session, (t.status_id for t in tickets))
    expected = await expected_first_replies(session, (t.id for t in tickets))
    return [staff_read(t, statuses[t.status_id], expected.get(t.id)) for t in tickets]


async def present_one(
    session: AsyncSession, principal: Principal, ticket: Ticket
) -> TicketRead | CustomerTicketRead:
    return (await present(session, principal, [ticket]))[0]


async def ticket_data(session: AsyncSession, ticket: Ticket) -> dict[str, Any]:
    """The ticket as an agent sees it, for events."""
    return (await present_to_staff(session, [ticket]))[0].model_dump(mode="json")

"""Ticket lists: filters, sorts and full-text search, shaped for indexes at millions of rows."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Row,
    Select,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import search_document, visible_tickets
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden, InvalidInput
from helpdesk_api.core.pagination import paginate
from helpdesk_api.core.tags import normalize_tags
from helpdesk_api.fields.values import definitions, filter_document
from helpdesk_api.models import (
    Channel,
    FieldEntity,
    Priority,
    SlaMetricStatus,
    StatusCategory,
    Ticket,
    TicketSlaMetric,
    TicketType,
)
from helpdesk_api.tickets.representation import (
    EXPECTED_FIRST_REPLY_AT,
    remember_expected_first_reply,
)
from helpdesk_api.tickets.schemas import TicketRead
from helpdesk_api.tickets.sorting import ticket_order


class SlaStatus(StrEnum):
    """``breached``: a running SLA clock is past its deadline. ``at_risk``: a running clock
    has passed its warning point (HELPDESK_SLA_WARNING_FRACTION of the target) but not yet
    its deadline."""

    breached = "breached"
    at_risk = "at_risk"


@dataclass(frozen=True)
class TicketFilters:
    status_category: list[StatusCategory]
    status_id: int | None = None
    assignee_id: str | None = None  # an id, "me" or "none"
    group_id: int | None = None
    requester_id: int | None = None
    organization_id: int | None = None
    product_id: int | None = None
    tag: tuple[str, ...] = ()
    priority: list[Priority] | None = None
    type: TicketType | None = None
    channel: Channel | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    q: str | None = None
    sla_status: SlaStatus | None = None
    ids: tuple[int, ...] = ()
    external_id: str | None = None
    now: datetime | None = None  # the request's time, for sla_status
    custom_field: tuple[str, ...] = ()  # "key:value", each must hold

    def staff_only(self) -> list[str]:
        names = ("assignee_id", "group_id", "tag", "priority", "status_id", "organization_id",
                 "sla_status", "product_id", "external_id")  # fmt: skip
        return [n for n in names if getattr(self, n) not in (None, (), [])]


def _assignee_condition(value: str, principal: Principal) -> Any:
    if value == "none":
        return Ticket.assignee_id.is_(None)
    if value == "me":
        return Ticket.assignee_id == principal.user_id
    if value.isdigit() and 0 < int(value) < 2**63:
        return Ticket.assignee_id == int(value)
    raise InvalidInput(
        'assignee_id must be a user id, "me" or "none".', loc=("query", "assignee_id")
    )


def _search_condition(q: str, principal: Principal) -> Any:
    return search_document(principal).op("@@")(func.websearch_to_tsquery("simple", q))


def sla_condition(status: SlaStatus, now: datetime) -> Any:
    if status == SlaStatus.breached:
        return Ticket.sla_next_breach_at <= now
    at_risk = select(TicketSlaMetric.ticket_id).where(
        TicketSlaMetric.status == SlaMetricStatus.active,
        TicketSlaMetric.warning_at <= now,
        TicketSlaMetric.breach_at > now,
    )
    return Ticket.id.in_(at_risk)


def filtered(principal: Principal, filters: TicketFilters) -> Select[Any]:
    if not principal.is_staff and filters.staff_only():
        raise Forbidden(f"Only staff may filter by {', '.join(filters.staff_only())}.")
    statement = visible_tickets(principal)
    conditions: list[Any] = []
    if filters.status_category:
        conditions.append(Ticket.status_category.in_(filters.status_category))
    if filters.status_id is not None:
        conditions.append(Ticket.status_id == filters.status_id)
    if filters.ids:
        conditions.append(Ticket.id.in_(filters.ids))
    if filters.external_id is not None:
        conditions.append(Ticket.external_id == filters.external_id)
    if filters.assignee_id is not None:
        conditions.append(_assignee_condition(filters.assignee_id, principal))
    for name in ("group_id", "requester_id", "organization_id", "product_id", "type", "channel"):
        value = getattr(filters, name)
        if value is not None:
            conditions.append(getattr(Ticket, name) == value)
    if filters.priority:
        conditions.append(Ticket.priority.in_(filters.priority))
    if filters.tag:
        tags = normalize_tags(list(filters.tag), loc=("query", "tag"))
        conditions.append(Ticket.tags.contains(tags))
    if filters.created_after is not None:
        conditions.append(Ticket.created_at >= filters.created_after)
    if filters.created_before is not None:
        conditions.append(Ticket.created_at < filters.created_before)
    if filters.updated_after is not None:
        conditions.append(Ticket.updated_at >= filters.updated_after)
    if filters.updated_before is not None:
        conditions.append(Ticket.updated_at < filters.updated_before)
    if filters.q:
        conditions.append(_search_condition(filters.q, principal))
    if filters.sla_status is not None and filters.now is not None:
        conditions.append(sla_condition(filters.sla_status, filters.now))
    return statement.where(*conditions)


async def custom_field_conditions(
    session: AsyncSession, principal: Principal, pairs: Sequence[str]
) -> list[ColumnElement[bool]]:
    """``custom_fields @> {key: value}`` per ``key:value``: the GIN index
    ``ix_tickets_custom_fields`` (jsonb_path_ops) answers each."""
    fields = await definitions(session, FieldEntity.ticket)
    conditions: list[ColumnElement[bool]] = []
    for index, pair in enumerate(pairs):
        loc = ("query", "custom_field", index)
        key, colon, raw = pair.partition(":")
        if not colon:
            raise InvalidInput("custom_field takes key:value, e.g. plan:pro.", loc=loc)
        document = filter_document(fields, key, raw, customer=not principal.is_staff, loc=loc)
        conditions.append(Ticket.custom_fields.contains(document))
    return conditions


# Below this many matches a search page is read from the matching ids; at or above it the
# words are common and the newest matches come first in list order, a few rows in.
SEARCH_PROBE_LIMIT = 2000


async def _search_bounds(session: AsyncSession, principal: Principal, q: str) -> list[Any]:
    """What keeps a search fast whatever PostgreSQL guesses of the words (migration 0007)."""
    # Plans for a search depend on its words: plan each for its own, never reuse a generic
    # plan made without them.
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    if not principal.is_staff:
        return []  # a customer's tickets are found from their own indexes first
    probe = func.ticket_search_probe(q, SEARCH_PROBE_LIMIT, type_=ARRAY(BigInteger))
    hits: list[int] | None = await session.scalar(select(probe))
    if hits is not None and len(hits) < SEARCH_PROBE_LIMIT:
        return [Ticket.id == any_(bindparam("search_hits", hits, type_=ARRAY(BigInteger)))]
    return []


# What a page shows, as plain rows: no ORM identity map or unit of work for 50 read-only rows.
_PAGE_COLUMNS = [
    Ticket.__table__.c[name]
    # status_id for the status, the sort columns for the cursor
    for name in dict.fromkeys(
        ["id", "status_id", "priority_rank", "sla_next_breach_at", *TicketRead.model_fields]
    )
    if name in Ticket.__table__.c
]


async def list_tickets(
    session: AsyncSession,
    principal: Principal,
    filters: TicketFilters,
    *,
    sort: str,
    limit: int,
    cursor: str | None,
    where: Sequence[ColumnElement[bool]] = (),
) -> tuple[list[Row[Any]], str | None]:
    """A page of the tickets ``principal`` may see that match ``filters`` and ``where`` (a
    saved view's conditions), in ``sort`` (see ``tickets.sorting``)."""
    order = ticket_order(principal, sort)
    statement = (
        filtered(principal, filters)
        .where(*where, *order.conditions)
        .with_only_columns(*_PAGE_COLUMNS, EXPECTED_FIRST_REPLY_AT, *order.extra_columns)
    )
    if filters.q:
        statement = statement.where(*await _search_bounds(session, principal, filters.q))
    if filters.custom_field:
        statement = statement.where(
            *await custom_field_conditions(session, principal, filters.custom_field)
        )
    rows, next_cursor = await paginate(
        session,
        statement,
        keys=order.keys,
        limit=limit,
        cursor=cursor,
        ordering=order.ordering,
        scalars=False,
    )
    for row in rows:
        remember_expected_first_reply(session, row.id, row.expected_first_reply_at)
    return rows, next_cursor


async def count_tickets(
    session: AsyncSession, principal: Principal, filters: TicketFilters, *, cap: int
) -> tuple[int, bool]:
    """How many tickets ``list_tickets`` would list, reading at most ``cap + 1`` ids: an
    exact count at a million matches is a scan of a million rows on every poll."""
    matching = filtered(principal, filters).with_only_columns(Ticket.id).limit(cap + 1)
    found = await session.scalar(select(func.count()).select_from(matching.subquery()))
    total = int(found or 0)
    return min(total, cap), total > cap

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import select

from helpdesk_api.core.auth import Agent, Authenticated, Staff
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch, check_if_match, make_etag
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit, SortKey, paginate
from helpdesk_api.core.params import ResourceId
from helpdesk_api.core.settings import Settings
from helpdesk_api.core.tags import normalize_tag
from helpdesk_api.models import Ticket, TicketAudit
from helpdesk_api.products.schemas import SuggestedProductList
from helpdesk_api.tickets import listing, products, service, similar, tagging
from helpdesk_api.tickets.include_schemas import INCLUDE_DESCRIPTION
from helpdesk_api.tickets.list_params import ticket_filters
from helpdesk_api.tickets.listing import TicketFilters
from helpdesk_api.tickets.representation import present, present_one, present_to_staff
from helpdesk_api.tickets.schemas import (
    AuditPage,
    AuditRead,
    BulkTicketUpdate,
    SimilarList,
    SimilarTicket,
    TagPage,
    TagRead,
    TicketCount,
    TicketCreate,
    TicketList,
    TicketPage,
    TicketRead,
    TicketUpdate,
    TicketView,
)
from helpdesk_api.tickets.sideloads import included, parse_include
from helpdesk_api.tickets.sorting import TicketSort

router = APIRouter(prefix="/v1", tags=["tickets"], route_class=TransactionalRoute)


def _etag(ticket: Ticket) -> str:
    return make_etag("ticket", ticket.id, ticket.version)


TicketFiltersParam = Annotated[TicketFilters, Depends(ticket_filters)]
IncludeParam = Annotated[str | None, Query(max_length=100, description=INCLUDE_DESCRIPTION)]


@router.get("/tickets")
async def list_tickets(
    session: DB,
    principal: Authenticated,
    filters: TicketFiltersParam,
    sort: Annotated[
        str,
        Query(
            max_length=100,
            description="Up to three keys, comma-separated, each with an optional leading "
            "`-` for descending: `created_at`, `updated_at`, `status`, `requester`, and (staff "
            "only) `priority`, `due_at`, `assignee`, `sla_breach_at`. Ties after `priority`, "
            "`status`, `requester` or `assignee` list older tickets first. `sla_breach_at` "
            "lists only tickets with a running SLA clock, `due_at` only those with a due "
            "date. Example: `status,-priority`.",
        ),
    ] = TicketSort.updated_at_desc,
    include: IncludeParam = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TicketPage:
    kinds = parse_include(include)
    tickets, next_cursor = await listing.list_tickets(
        session, principal, filters, sort=sort, limit=limit, cursor=cursor
    )
    page = TicketPage(data=await present(session, principal, tickets), next_cursor=next_cursor)
    return page.model_copy(update=dict(await included(session, principal, tickets, kinds)))


@router.get("/tickets/count")
async def count_tickets(
    request: Request, session: DB, principal: Authenticated, filters: TicketFiltersParam
) -> TicketCount:
    """How many tickets `GET /v1/tickets` would list with the same filters, counted up to
    `HELPDESK_VIEW_COUNT_CAP` (10,000: `capped` beyond), so a count never reads more than
    that many ticket ids however many match."""
    settings: Settings = request.app.state.settings
    count, capped = await listing.count_tickets(
        session, principal, filters, cap=settings.view_count_cap
    )
    return TicketCount(count=count, capped=capped)


@router.post("/tickets", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_ticket(
    data: TicketCreate, session: DB, principal: Authenticated, response: Response, now: Now
) -> TicketView:
    """Open a ticket with its first comment. Staff name the requester (`requester_id`, or
    `requester: {email, name}` to find or create the customer); a customer is the requester."""
    ticket = await service.create_ticket(session, principal, data, now=now)
    response.headers["Location"] = f"/v1/tickets/{ticket.id}"
    response.headers["ETag"] = _etag(ticket)
    return await present_one(session, principal, ticket)


@router.patch("/tickets")
async def bulk_update_tickets(
    data: BulkTicketUpdate, session: DB, principal: Agent, now: Now
) -> TicketList:
    """Apply the same changes to up to 100 tickets: all of them, or none."""
    tickets = await service.bulk_update(session, principal, data.ids, data.changes, now=now)
    rendered = await present(session, principal, tickets)
    return TicketList(data=[t for t in rendered if isinstance(t, TicketRead)])


@router.get("/tickets/{ticket_id}")
async def get_ticket(
    ticket_id: ResourceId,
    session: DB,
    principal: Authenticated,
    response: Response,
    include: IncludeParam = None,
) -> TicketView:
    kinds = parse_include(include)
    ticket = await service.get_visible_ticket(session, principal, ticket_id)
    response.headers["ETag"] = _etag(ticket)
    shown = await present_one(session, principal, ticket)
    # ``included`` gives each caller's users in their own shape, as the ticket's shape types.
    extra = dict(await included(session, principal, [ticket], kinds))
    return shown.model_copy(update={kind: extra[kind] for kind in kinds})


@router.patch("/tickets/{ticket_id}")
async def update_ticket(
    ticket_id: ResourceId,
    data: TicketUpdate,
    session: DB,
    principal: Authenticated,
    response: Response,
    now: Now,
    if_match: IfMatch = None,
) -> TicketView:
    """Change a ticket, optionally with a `comment` in the same transaction. Customers may
    only mark their own ticket solved (and add a public comment)."""
    ticket = await service.get_visible_ticket(session, principal, ticket_id, for_update=True)
    check_if_match(if_match, _etag(ticket))
    await service.apply_update(session, principal, ticket, data, now=now)
    response.headers["ETag"] = _etag(ticket)
    return await present_one(session, principal, ticket)


@router.get("/tickets/{ticket_id}/audits")
async def list_audits(
    ticket_id: ResourceId, session: DB, principal: Staff, limit: Limit = 50, cursor: Cursor = None
) -> AuditPage:
    """Every change to the ticket: who, through what, what changed. Staff only."""
    await service.get_visible_ticket(session, principal, ticket_id)
    audits, next_cursor = await paginate(
        session,
        select(TicketAudit).where(TicketAudit.ticket_id == ticket_id),
        keys=[SortKey(TicketAudit.id, lambda a: a.id)],
        limit=limit,
        cursor=cursor,
    )
    return AuditPage(
        data=[AuditRead.model_validate(a, from_attributes=True) for a in audits],
        next_cursor=next_cursor,
    )


@router.get("/tags")
async def list_tags(
    session: DB,
    principal: Staff,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Prefix")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TagPage:
    """Tags in use, most used first, with how many tickets carry each. Staff who see only
    some groups' tickets count those tickets only, so no other group's tags show."""
    prefix = normalize_tag(q, loc=("query", "q")) if q else None
    rows, next_cursor = await tagging.list_tag_counts(
        session, principal, prefix=prefix, limit=limit, cursor=cursor
    )
    return TagPage(
        data=[TagRead(name=r.tag, ticket_count=r.ticket_count) for r in rows],
        next_cursor=next_cursor,
    )


@router.get("/tickets/{ticket_id}/similar")
async def list_similar_tickets(
    ticket_id: ResourceId,
    session: DB,
    principal: Staff,
    limit: Annotated[int, Query(ge=1, le=50, description="How many, at most 50.")] = 10,
) -> SimilarList:
    """Open tickets that look like this one, best first: same requester, similar subject
    (trigram similarity) or similar words in the subject and comments."""
    found = await similar.similar_tickets(session, principal, ticket_id, limit=limit)
    tickets = await present_to_staff(session, [s.ticket for s in found])
    return SimilarList(
        data=[
            SimilarTicket(ticket=ticket, score=s.score, reasons=s.reasons)
            for ticket, s in zip(tickets, found, strict=True)
        ]
    )


@router.get("/tickets/{ticket_id}/suggested-products")
async def list_suggested_products(
    ticket_id: ResourceId, session: DB, principal: Staff
) -> SuggestedProductList:
    """The requester's assets, best first: those whose serial number, order number or
    product name the subject or first comment names (`reasons`), then the others (at most
    20). Staff only. What intake matched by itself is on the ticket (`asset_id`)."""
    ticket = await service.get_visible_ticket(session, principal, ticket_id)
    return await products.suggest(session, ticket)

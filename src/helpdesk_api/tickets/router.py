from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import select

from helpdesk_api.core.auth import Agent, Authenticated, Staff
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch, check_if_match, make_etag
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit, SortKey, paginate
from helpdesk_api.core.params import ResourceId, Timestamp
from helpdesk_api.core.tags import normalize_tag
from helpdesk_api.models import Channel, Priority, StatusCategory, Ticket, TicketAudit
from helpdesk_api.models import TicketType as TicketTypeEnum
from helpdesk_api.products.schemas import SuggestedProductList
from helpdesk_api.tickets import listing, products, service, similar, tagging
from helpdesk_api.tickets.listing import SlaStatus, TicketFilters, TicketSort
from helpdesk_api.tickets.representation import present, present_one, present_to_staff
from helpdesk_api.tickets.schemas import (
    AuditPage,
    AuditRead,
    BulkTicketUpdate,
    SimilarList,
    SimilarTicket,
    TagPage,
    TagRead,
    TicketCreate,
    TicketList,
    TicketPage,
    TicketRead,
    TicketUpdate,
    TicketView,
)

router = APIRouter(prefix="/v1", tags=["tickets"], route_class=TransactionalRoute)


def _etag(ticket: Ticket) -> str:
    return make_etag("ticket", ticket.id, ticket.version)


@router.get("/tickets")
async def list_tickets(
    session: DB,
    principal: Authenticated,
    now: Now,
    status_category: Annotated[list[StatusCategory], Query()] = [],  # noqa: B006
    status_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    assignee_id: Annotated[
        str | None, Query(max_length=20, description='A user id, "me" or "none".')
    ] = None,
    group_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    requester_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    organization_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    product_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Staff only: tickets about it.")
    ] = None,
    tag: Annotated[
        list[str], Query(max_length=20, description="Repeatable; every tag must match.")
    ] = [],  # noqa: B006
    priority: Annotated[list[Priority], Query()] = [],  # noqa: B006
    type: TicketTypeEnum | None = None,
    channel: Channel | None = None,
    created_after: Timestamp | None = None,
    created_before: Timestamp | None = None,
    updated_after: Timestamp | None = None,
    updated_before: Timestamp | None = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description='Full text (web-search syntax: words, "phrases", -exclusions) over '
            "the subject and the comments together: every word must appear somewhere in the "
            "ticket. No stemming, so it works alike in every language. Customers search the "
            "subject and public replies only.",
        ),
    ] = None,
    sla_status: Annotated[
        SlaStatus | None,
        Query(
            description="Staff only. `breached`: a running SLA clock is past its deadline; "
            "`at_risk`: one has passed its warning point but not its deadline."
        ),
    ] = None,
    custom_field: Annotated[
        list[str],
        Query(
            max_length=10,
            description="Repeatable `key:value` (every one must hold): tickets whose ticket "
            "field `key` has that value, read as the field's type (`seats:5`, `vip:true`, "
            "`renewal:2026-03-01`); for a multiselect, tickets that selected that option. "
            "Customers may filter only by fields that are not agent-only.",
        ),
    ] = [],  # noqa: B006
    sort: Annotated[
        TicketSort,
        Query(
            description="`sla_breach_at` (staff only) lists tickets with a running SLA clock, "
            "the next deadline first."
        ),
    ] = TicketSort.updated_at_desc,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TicketPage:
    filters = TicketFilters(
        status_category=status_category,
        status_id=status_id,
        assignee_id=assignee_id,
        group_id=group_id,
        requester_id=requester_id,
        organization_id=organization_id,
        product_id=product_id,
        tag=tuple(tag),
        priority=priority,
        type=type,
        channel=channel,
        created_after=created_after,
        created_before=created_before,
        updated_after=updated_after,
        updated_before=updated_before,
        q=q,
        sla_status=sla_status,
        now=now,
        custom_field=tuple(custom_field),
    )
    tickets, next_cursor = await listing.list_tickets(
        session, principal, filters, sort=sort, limit=limit, cursor=cursor
    )
    return TicketPage(data=await present(session, principal, tickets), next_cursor=next_cursor)


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
    ticket_id: ResourceId, session: DB, principal: Authenticated, response: Response
) -> TicketView:
    ticket = await service.get_visible_ticket(session, principal, ticket_id)
    response.headers["ETag"] = _etag(ticket)
    return await present_one(session, principal, ticket)


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

"""Links between tickets: `related`, `duplicate`, and `incident` of a `problem`.

A link is stored once, pointing from its subject: the duplicate to the original, the incident
to its problem. Listing a ticket's links shows both directions.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import ticket_visibility, visible_tickets
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput, NotFound
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.links.schemas import LinkCreate, LinkDirection, LinkRead
from helpdesk_api.models import LinkKind, Ticket, TicketLink, TicketType
from helpdesk_api.tickets import ChangeSet, commit_change, get_visible_ticket


def _involving(ticket_id: int) -> ColumnElement[bool]:
    return or_(TicketLink.ticket_id == ticket_id, TicketLink.linked_ticket_id == ticket_id)


def to_read(link: TicketLink, ticket_id: int) -> LinkRead:
    outbound = link.ticket_id == ticket_id
    return LinkRead(
        id=link.id,
        ticket_id=link.linked_ticket_id if outbound else link.ticket_id,
        kind=LinkKind(link.kind),
        direction=LinkDirection.outbound if outbound else LinkDirection.inbound,
        created_by=link.created_by,
        created_at=link.created_at,
    )


def _other_visible(principal: Principal, ticket_id: int) -> ColumnElement[bool]:
    """The link's far end is a ticket the caller may see."""
    other_id = case(
        (TicketLink.ticket_id == ticket_id, TicketLink.linked_ticket_id),
        else_=TicketLink.ticket_id,
    )
    return other_id.in_(select(Ticket.id).where(ticket_visibility(principal)))


async def list_links(
    session: AsyncSession, principal: Principal, ticket_id: int, *, limit: int, cursor: str | None
) -> tuple[list[LinkRead], str | None]:
    await get_visible_ticket(session, principal, ticket_id)
    links, next_cursor = await paginate(
        session,
        select(TicketLink).where(_involving(ticket_id), _other_visible(principal, ticket_id)),
        keys=[SortKey(TicketLink.id, lambda link: link.id)],
        limit=limit,
        cursor=cursor,
        ordering="links",
    )
    return [to_read(link, ticket_id) for link in links], next_cursor


def _orient(this: Ticket, other: Ticket, kind: LinkKind) -> tuple[Ticket, Ticket]:
    """(subject, object) of the stored link: an incident always points at its problem."""
    if kind != LinkKind.incident:
        return this, other
    if this.type == TicketType.problem and other.type == TicketType.incident:
        return other, this
    if this.type == TicketType.incident and other.type == TicketType.problem:
        return this, other
    raise InvalidInput(
        "An incident link joins a ticket of type problem and a ticket of type incident.",
        loc=("body", "kind"),
    )


async def _audit_both(
    session: AsyncSession,
    principal: Principal,
    tickets: Sequence[Ticket],
    before: object,
    after: object,
    now: datetime,
) -> None:
    for ticket in tickets:
        changes = ChangeSet()
        changes.note("link", before, after)
        await commit_change(session, ticket, changes, actor=Actor.of(principal), now=now)


async def _lock_pair(
    session: AsyncSession, principal: Principal, ticket_id: int, other_id: int
) -> tuple[Ticket, Ticket | None]:
    rows = await session.scalars(
        visible_tickets(principal)
        .where(Ticket.id.in_([ticket_id, other_id]))
        .order_by(Ticket.id)
        .with_for_update()
    )
    found = {t.id: t for t in rows}
    if ticket_id not in found:
        raise NotFound(f"Ticket {ticket_id} does not exist.")
    return found[ticket_id], found.get(other_id)


async def create_link(
    session: AsyncSession, principal: Principal, ticket_id: int, data: LinkCreate, *, now: datetime
) -> LinkRead:
    if data.ticket_id == ticket_id:
        raise InvalidInput("A ticket cannot be linked to itself.", loc=("body", "ticket_id"))
    this, other = await _lock_pair(session, principal, ticket_id, data.ticket_id)
    if other is None:
        raise InvalidInput(f"Ticket {data.ticket_id} does not exist.", loc=("body", "ticket_id"))
    subject, obj = _orient(this, other, data.kind)
    existing = await session.scalar(
        select(TicketLink).where(
            or_(
                and_(TicketLink.ticket_id == this.id, TicketLink.linked_ticket_id == other.id),
                and_(TicketLink.ticket_id == other.id, TicketLink.linked_ticket_id == this.id),
            )
        )
    )
    if existing is not None:
        raise Conflict(f"Tickets {this.id} and {other.id} are already linked ({existing.kind}).")
    if data.kind == LinkKind.incident:
        problem_id = await session.scalar(
            select(TicketLink.linked_ticket_id).where(
                TicketLink.ticket_id == subject.id, TicketLink.kind == LinkKind.incident
            )
        )
        if problem_id is not None:
            raise Conflict(f"Ticket {subject.id} is already an incident of problem {problem_id}.")
    # Both tickets are locked, so the checks above hold; the unique indexes back them.
    link = await session.scalar(
        insert(TicketLink)
        .values(
            ticket_id=subject.id,
            linked_ticket_id=obj.id,
            kind=data.kind,
            created_by=principal.user_id,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(TicketLink)
    )
    if link is None:
        raise Conflict(f"Tickets {this.id} and {other.id} are already linked.")
    described = {"id": link.id, "ticket_id": subject.id, "linked_ticket_id": obj.id,
                 "kind": link.kind}  # fmt: skip
    await _audit_both(session, principal, sorted([this, other], key=lambda t: t.id),
                      None, described, now)  # fmt: skip
    await record_event(
        session,
        EventType.ticket_linked,
        actor_id=principal.user_id,
        ticket_id=this.id,
        data={"link": described},
    )
    return to_read(link, ticket_id)


async def delete_link(
    session: AsyncSession, principal: Principal, ticket_id: int, link_id: int, *, now: datetime
) -> None:
    link = await session.scalar(
        select(TicketLink).where(TicketLink.id == link_id, _involving(ticket_id))
    )
    if link is None:
        raise NotFound(f"Ticket {ticket_id} has no link {link_id}.")
    other_id = link.linked_ticket_id if link.ticket_id == ticket_id else link.ticket_id
    this, other = await _lock_pair(session, principal, ticket_id, other_id)
    if other is None:
        raise NotFound(f"Ticket {ticket_id} has no link {link_id}.")
    described = {"id": link.id, "ticket_id": link.ticket_id,
                 "linked_ticket_id": link.linked_ticket_id, "kind": link.kind}  # fmt: skip
    await session.delete(link)
    await session.flush()
    await _audit_both(session, principal, sorted([this, other], key=lambda t: t.id),
                      described, None, now)  # fmt: skip
    await record_event(
        session,
        EventType.ticket_unlinked,
        actor_id=principal.user_id,
        ticket_id=this.id,
        data={"link": described},
    )


async def linked_ticket_ids(
    session: AsyncSession, ticket_id: int, *, kind: LinkKind | None = None
) -> list[int]:
    other_id = case(
        (TicketLink.ticket_id == ticket_id, TicketLink.linked_ticket_id),
        else_=TicketLink.ticket_id,
    )
    statement = select(other_id).where(_involving(ticket_id))
    if kind is not None:
        statement = statement.where(TicketLink.kind == kind)
    return sorted(set(await session.scalars(statement)))

"""Which tickets and comments a caller may see, as SQL: every read starts from here."""

from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Select,
    and_,
    any_,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import InstrumentedAttribute

from helpdesk_api.core.auth import Principal
from helpdesk_api.models import (
    Event,
    Ticket,
    TicketAccess,
    TicketCc,
    TicketComment,
)


def ticket_visibility(principal: Principal) -> ColumnElement[bool]:
    """Written so PostgreSQL can answer from indexes at millions of tickets: constants from
    the principal, and the CC list as an array computed once (``= ANY``) rather than a
    subquery per row, which would make it walk the whole table for a customer with ten
    tickets."""
    me = principal.user_id
    if principal.is_staff:
        if principal.ticket_access == TicketAccess.all:
            return true()
        return or_(Ticket.group_id.in_(principal.group_ids), Ticket.assignee_id == me)
    # An array expression (not ``ANY (SELECT …)``): PostgreSQL computes it once, before the
    # scan, and can use it as an index condition.
    copied = func.coalesce(
        select(func.array_agg(TicketCc.ticket_id)).where(TicketCc.user_id == me).scalar_subquery(),
        literal([], ARRAY(BigInteger)),
    )
    # A customer copied on a ticket sees it as its requester does.
    visible = [Ticket.requester_id == me, Ticket.id == any_(copied)]
    if principal.shared_organization_id is not None:  # never "organization_id IS NULL"
        visible.append(Ticket.organization_id == principal.shared_organization_id)
    return or_(*visible)


def visible_tickets(principal: Principal) -> Select[Ticket]:
    return select(Ticket).where(ticket_visibility(principal))


def comment_visibility(principal: Principal) -> ColumnElement[bool]:
    """Private notes exist only for staff; customers' queries never select them."""
    return true() if principal.is_staff else TicketComment.is_public.is_(True)


def search_document(principal: Principal) -> InstrumentedAttribute[Any]:
    """The words a caller may search: customers never match words of private notes."""
    return Ticket.search_document if principal.is_staff else Ticket.public_search_document


def visible_comments(principal: Principal, ticket_id: int) -> Select[Any]:
    return select(TicketComment).where(
        TicketComment.ticket_id == ticket_id, comment_visibility(principal)
    )


# Events about resources only admins may read (webhooks: their URLs carry credentials;
# mailboxes and the mail that reached them: server names, senders, errors; rules: their
# wording and routing are the admins', and agents may not read them through the API either;
# macros and views: an agent's personal one is theirs alone, a 404 to other agents; messaging
# channels: their webhook URLs and bot settings).
ADMIN_ONLY_EVENT_PREFIXES = (
    "webhook.", "email_channel.", "inbound_email.", "trigger.", "automation.", "macro.",
    "view.", "channel.",
)  # fmt: skip
# An upload not yet attached is its uploader's (and admins'), and so is the event telling it.
UPLOAD_EVENT = "attachment.created"


def event_visibility(principal: Principal) -> ColumnElement[bool]:
    """Which events staff may read: a ticket's events if they may see the ticket, other
    events unless they concern admin-only resources or someone else's upload. Customers
    read only their tickets' public events (``events.feed.customer_events_after``)."""
    if principal.is_admin and principal.ticket_access == TicketAccess.all:
        return true()
    if principal.ticket_access == TicketAccess.all:
        ticket_events: ColumnElement[bool] = Event.ticket_id.is_not(None)
    else:
        # Per event, one primary-key probe of its ticket with the principal's constants: a
        # scalar subquery, which PostgreSQL runs per row. An EXISTS here would become a
        # hash of every ticket the caller may see, built on every page (200 ms for a
        # 40 % share of 200,000 tickets; bench/feed_plans.py).
        visible = (
            select(ticket_visibility(principal))
            .where(Ticket.id == Event.ticket_id)
            .scalar_subquery()
        )
        ticket_events = and_(Event.ticket_id.is_not(None), visible.is_(True))
    other_events: ColumnElement[bool] = Event.ticket_id.is_(None)
    if not principal.is_admin:
        other_events = and_(
            other_events,
            *(not_(Event.type.startswith(p)) for p in ADMIN_ONLY_EVENT_PREFIXES),
            or_(Event.type != UPLOAD_EVENT, Event.actor_id == principal.user_id),
        )
    return or_(ticket_events, other_events)

"""Which tickets and comments a caller may see, as SQL: every read starts from here."""

from typing import Any

from sqlalchemy import ColumnElement, Select, exists, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from helpdesk_api.core.auth import Principal
from helpdesk_api.models import (
    GroupMembership,
    Organization,
    Ticket,
    TicketAccess,
    TicketCc,
    TicketComment,
    User,
)


def ticket_visibility(principal: Principal) -> ColumnElement[bool]:
    me = principal.user_id
    if principal.is_staff:
        if principal.ticket_access == TicketAccess.all:
            return true()
        my_groups = select(GroupMembership.group_id).where(GroupMembership.user_id == me)
        return or_(Ticket.group_id.in_(my_groups), Ticket.assignee_id == me)
    shared_organization = (
        select(User.organization_id)
        .join(Organization, Organization.id == User.organization_id)
        .where(User.id == me, Organization.shared_tickets)
    )
    # A customer copied on a ticket sees it as its requester does.
    copied = exists().where(TicketCc.ticket_id == Ticket.id, TicketCc.user_id == me)
    return or_(Ticket.requester_id == me, Ticket.organization_id.in_(shared_organization), copied)


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

"""Who may do what to a ticket: one table, role × relation to the ticket → actions.

Which tickets a caller may *see* is SQL (``visibility.py``): a ticket outside it is "not
found". This table decides what a caller may *do* to a ticket it sees; every service asks it
through ``require``/``allows`` instead of comparing role names.

The rules a mature help desk has (Zendesk's among them): only the requester may mark a ticket
solved; customers copied on it or sharing its organisation may read and reply; light agents
read and write private notes; agents and admins do everything else.
"""

from collections.abc import Mapping
from enum import StrEnum

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden
from helpdesk_api.models import Role, Ticket


class Relation(StrEnum):
    requester = "requester"
    shared = "shared"  # a customer copied on the ticket, or of its sharing organisation
    staff = "staff"  # staff who may see it (all tickets, its group, or assigned to them)


class TicketAction(StrEnum):
    open = "open"  # create a ticket
    reply = "reply"  # a public comment
    note = "note"  # a private note
    solve = "solve"  # move to solved (the only status a customer may set)
    edit = "edit"  # change any other field, in one ticket or in bulk
    propagate = "propagate"  # copy a problem's reply to its incidents
    organise = "organise"  # merge, link, copy people on it


_AGENT = frozenset(TicketAction)
_CUSTOMER = frozenset({TicketAction.open, TicketAction.reply})

TICKET_PERMISSIONS: Mapping[tuple[Role, Relation], frozenset[TicketAction]] = {
    (Role.customer, Relation.requester): _CUSTOMER | {TicketAction.solve},
    (Role.customer, Relation.shared): _CUSTOMER,
    (Role.light_agent, Relation.staff): frozenset({TicketAction.note}),
    (Role.agent, Relation.staff): _AGENT,
    (Role.admin, Relation.staff): _AGENT,
}

# Why a refusal happened, in the words clients have seen since the first release.
_LIGHT, _NOTES = "Light agents", "they add private notes"
_REFUSALS: Mapping[tuple[Role, TicketAction], str] = {
    (Role.light_agent, TicketAction.open): f"{_LIGHT} cannot open tickets; {_NOTES}.",
    (Role.light_agent, TicketAction.reply): f"{_LIGHT} write private notes; an agent must reply.",
    (Role.light_agent, TicketAction.edit): f"{_LIGHT} cannot change tickets; {_NOTES}.",
    (Role.customer, TicketAction.note): "Customers cannot write private notes.",
    (Role.customer, TicketAction.edit): "Customers may only mark their ticket as solved.",
    (Role.customer, TicketAction.solve): "Only the requester may mark the ticket as solved; "
    "others copied on it may reply.",
}  # fmt: skip


def relation_of(principal: Principal, ticket: Ticket | None) -> Relation:
    """The caller's relation to a ticket it may see (``None``: one it is opening)."""
    if principal.is_staff:
        return Relation.staff
    if ticket is None or ticket.requester_id == principal.user_id:
        return Relation.requester
    return Relation.shared


def allows(role: Role | None, relation: Relation, action: TicketAction) -> bool:
    """``role`` None is the service itself (SLA timers, rules): it may do anything."""
    if role is None:
        return True
    return action in TICKET_PERMISSIONS.get((role, relation), frozenset())


def refusal(role: Role | None, action: TicketAction) -> Forbidden:
    default = f"Your role ({role}) may not {action.value} on this ticket."
    return Forbidden(_REFUSALS.get((role, action), default) if role else default)


def require(principal: Principal, ticket: Ticket | None, action: TicketAction) -> None:
    if not allows(principal.role, relation_of(principal, ticket), action):
        raise refusal(principal.role, action)

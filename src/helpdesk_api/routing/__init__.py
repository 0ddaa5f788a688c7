"""Routing and assignment: which agent of a group gets an unassigned ticket.

The public surface: ``route_ticket`` (the one way to route a ticket, for the trigger
``route`` action and any writer), its ``RoutingOutcome``, and ``route_on_change``, the
``Stage.routing`` reaction of the ticket pipeline. Group settings, agents' skills and
availability, tickets' required skills and organisations' account managers are fields of
those resources (``groups``, ``users``, ``tickets``, ``organizations``); this package reads
them and owns ``PUT /v1/me/availability``.
"""

from helpdesk_api.routing.outcome import Basis, FailureReason, RoutingOutcome, SkipReason
from helpdesk_api.routing.reaction import ROUTING_ACTOR, route_on_change
from helpdesk_api.routing.service import route_ticket

__all__ = [
    "ROUTING_ACTOR",
    "Basis",
    "FailureReason",
    "RoutingOutcome",
    "SkipReason",
    "route_on_change",
    "route_ticket",
]

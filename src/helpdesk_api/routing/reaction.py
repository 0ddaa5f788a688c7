"""The ``Stage.routing`` reaction: a ticket that is created in, or moved into, a routed group
without an assignee is routed, whoever made the change (the API, an e-mail, a trigger).

It runs after the triggers, so it routes the ticket where they put it, with the skills they
required; a trigger that assigned or routed the ticket itself leaves nothing to do. The
assignment is the change's follow-up by ``Actor.system(Via.routing)``, so the triggers run
on it in turn. When the triggers already hold this round's follow-up, routing is deferred
to the next round (``ChangeSet.deferred``), where the follow-up is free.

Only creation and a move into the group route: unassigning a ticket, or an agent going
online, does not re-route the queue (agents pick such tickets themselves).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.actor import Actor
from helpdesk_api.models import RoutingMode, Via
from helpdesk_api.routing.service import route_ticket, routing_group
from helpdesk_api.tickets import ChangeSet, TicketChange

ROUTING_ACTOR = Actor.system(Via.routing)
_DEFERRED = "routing"


async def route_on_change(session: AsyncSession, change: TicketChange) -> None:
    ticket = change.ticket
    due = (
        change.created or change.changes.changed("group_id") or _DEFERRED in change.changes.deferred
    )
    if not due or ticket.assignee_id is not None or ticket.group_id is None:
        return
    group = await routing_group(session, ticket.group_id)
    if group is None or group.routing_mode == RoutingMode.manual:
        return
    if change.follow_up_actor not in (None, ROUTING_ACTOR):
        change.follow_up.deferred.add(_DEFERRED)
        return
    routed = ChangeSet()
    await route_ticket(session, ticket, routed, actor=ROUTING_ACTOR)
    if routed:
        change.follow_up_by(ROUTING_ACTOR).changes.extend(routed.changes)

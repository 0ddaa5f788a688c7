"""One reply for all: a `problem` ticket's public reply (sent with `propagate: true`), or its
move to solved, reaches every linked incident, each audited `via: problem`.

A reaction of the ticket pipeline: it runs inside the transaction and the change of the
problem, and changes each incident through the pipeline one level deeper. An incident is
never a problem, so the copies cannot propagate again; changes that already reach every
linked ticket by themselves (a reply to all linked tickets, a merge) say so in their
``ChangeSet``.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.permissions import Relation, TicketAction, allows
from helpdesk_api.access.visibility import visible_tickets
from helpdesk_api.core.errors import Forbidden, InvalidInput
from helpdesk_api.links.service import linked_ticket_ids
from helpdesk_api.models import (
    LinkKind,
    StatusCategory,
    Ticket,
    TicketComment,
    TicketStatus,
    TicketType,
    Via,
)
from helpdesk_api.tickets import ChangeSet, NewComment, TicketChange, add_comment, set_status

PROPAGATE_LOC = ("body", "propagate")


def _check_propagate(change: TicketChange) -> None:
    if not allows(change.actor.role, Relation.staff, TicketAction.propagate):
        raise Forbidden("Only agents and admins may propagate a reply to incidents.")
    if not change.changes.comment_public:
        raise InvalidInput("Only a public reply can be propagated.", loc=PROPAGATE_LOC)
    if change.ticket.type != TicketType.problem:
        raise InvalidInput(
            f"Ticket {change.ticket.id} is not a problem ticket: it has no incidents to "
            "propagate to.",
            loc=PROPAGATE_LOC,
        )


async def propagate_to_incidents(session: AsyncSession, change: TicketChange) -> None:
    changes, problem = change.changes, change.ticket
    if changes.propagate:
        _check_propagate(change)
    if change.created or changes.reaches_linked or problem.type != TicketType.problem:
        return
    solved = changes.changed("status") and problem.status_category == StatusCategory.solved
    if not (changes.propagate or solved):
        return
    reply = None
    if changes.comment_id is not None and changes.comment_public:
        reply = await session.get(TicketComment, changes.comment_id)
    incident_ids = await linked_ticket_ids(session, problem.id, kind=LinkKind.incident)
    if not incident_ids:
        return
    # Only incidents the actor may see, as a reply to all linked tickets does: a reply never
    # lands in a group its author cannot read.
    scope = change.actor.principal
    incidents = await session.scalars(
        (select(Ticket) if scope is None else visible_tickets(scope))
        .where(Ticket.id.in_(incident_ids), Ticket.status_category != StatusCategory.closed)
        .order_by(Ticket.id)
        .with_for_update()
    )
    status = await session.get(TicketStatus, problem.status_id)
    assert status is not None
    actor = change.actor.by(Via.problem)
    for incident in incidents:
        incident_changes = ChangeSet()
        if reply is not None:
            await add_comment(
                session, incident, NewComment.copied(reply),
                actor=actor, changes=incident_changes, now=change.now,
            )  # fmt: skip
        if incident.status_category != problem.status_category:
            set_status(incident, status, incident_changes, change.now)
        if not incident_changes:
            continue
        incident.updated_at = change.now
        await session.flush()
        await change.cascade(session, incident, incident_changes, actor)

"""One reply for all: a `problem` ticket's public reply (sent with `propagate: true`), or its
move to solved, reaches every linked incident, each audited `via: problem`.

Registered as a ticket hook, so it runs inside the transaction and the audit of the problem's
own change. Copies are written `via: problem` and never propagate again.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.conversations.service import present_comments
from helpdesk_api.core.errors import Forbidden, InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.merging.copying import copy_comments
from helpdesk_api.merging.links import linked_ticket_ids
from helpdesk_api.models import (
    LinkKind,
    Role,
    StatusCategory,
    Ticket,
    TicketComment,
    TicketStatus,
    TicketType,
)
from helpdesk_api.tickets.audit import write_audit
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.hooks import TicketChange
from helpdesk_api.tickets.lifecycle import after_public_comment, set_status

VIA = "problem"
# Changes that already reach every linked ticket on their own, or are propagation itself.
NOT_PROPAGATED_VIA = frozenset({VIA, "links", "merge"})
PROPAGATE_LOC = ("body", "propagate")


def _check_propagate(change: TicketChange) -> None:
    if change.actor_role not in (Role.admin, Role.agent):
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
    if change.created or change.via in NOT_PROPAGATED_VIA or problem.type != TicketType.problem:
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
    incidents = await session.scalars(
        select(Ticket)
        .where(Ticket.id.in_(incident_ids), Ticket.status_category != StatusCategory.closed)
        .order_by(Ticket.id)
        .with_for_update()
    )
    status = await session.get(TicketStatus, problem.status_id)
    assert status is not None
    for incident in incidents:
        incident_changes = ChangeSet()
        if reply is not None:
            await _copy_reply(session, change, reply, incident, incident_changes)
        if incident.status_category != problem.status_category:
            set_status(incident, status, incident_changes, change.now)
        if not incident_changes:
            continue
        incident.updated_at = change.now
        await session.flush()
        await write_audit(
            session,
            incident,
            incident_changes,
            actor_id=change.actor_id,
            actor_role=change.actor_role,
            via=VIA,
            now=change.now,
        )


async def _copy_reply(
    session: AsyncSession,
    change: TicketChange,
    reply: TicketComment,
    incident: Ticket,
    changes: ChangeSet,
) -> None:
    (copy,) = await copy_comments(session, [reply], incident, via=VIA)
    incident.comment_count += 1
    incident.last_public_comment_at = copy.created_at
    await after_public_comment(
        session,
        incident,
        by_agent=change.actor_role in (Role.admin, Role.agent),
        by_customer=False,
        changes=changes,
        now=change.now,
    )
    changes.comment_id = copy.id
    changes.comment_public = True
    changes.note("comment", None, {"id": copy.id, "public": True})
    read = (await present_comments(session, [copy]))[0]
    await record_event(
        session,
        EventType.comment_created,
        actor_id=change.actor_id,
        via=VIA,
        ticket_id=incident.id,
        is_public=True,
        data={"comment": read.model_dump(mode="json"), "public": True},
    )

"""Answering a ticket and every ticket linked to it with one request."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import visible_tickets
from helpdesk_api.core.auth import Principal
from helpdesk_api.links.schemas import LinkReply
from helpdesk_api.links.service import linked_ticket_ids
from helpdesk_api.models import StatusCategory, Ticket, TicketComment, Via
from helpdesk_api.statuses.service import get_usable_status
from helpdesk_api.tickets import (
    ChangeSet,
    CommentCreate,
    TicketUpdate,
    apply_update,
    get_visible_ticket,
)


async def reply_to_all(
    session: AsyncSession, principal: Principal, ticket_id: int, data: LinkReply, *, now: datetime
) -> tuple[list[TicketComment], list[int]]:
    """The comments written (one per answered ticket, by id) and the linked tickets skipped:
    closed ones, and those the caller may not see."""
    await get_visible_ticket(session, principal, ticket_id)
    if data.status_id is not None:
        await get_usable_status(session, data.status_id)
    ids = sorted({ticket_id, *await linked_ticket_ids(session, ticket_id)})
    # Locked in id order, as merges and bulk updates do, so they cannot deadlock.
    tickets = await session.scalars(
        visible_tickets(principal)
        .where(Ticket.id.in_(ids))
        .order_by(Ticket.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    answered: list[int] = []
    for ticket in tickets:
        if ticket.status_category == StatusCategory.closed:
            continue
        fields: dict[str, object] = {"comment": CommentCreate(body=data.body, public=data.public)}
        if data.status_id is not None:
            fields["status_id"] = data.status_id
        # It answers a problem's incidents itself: the problem's change must not reach them
        # a second time by propagation.
        changes = await apply_update(
            session, principal, ticket, TicketUpdate.model_validate(fields), now=now,
            via=Via.links, changes=ChangeSet(reaches_linked=True),
        )  # fmt: skip
        assert changes.comment_id is not None
        answered.append(changes.comment_id)
    comments = list(
        await session.scalars(
            select(TicketComment).where(TicketComment.id.in_(answered)).order_by(TicketComment.id)
        )
    )
    done = {c.ticket_id for c in comments}
    return comments, [i for i in ids if i not in done]

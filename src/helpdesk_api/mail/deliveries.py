"""The outbox as staff read it: a ticket's messages, newest first."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.mail.schemas import EmailDeliveryRead
from helpdesk_api.models import OutboundEmail, OutboundStatus
from helpdesk_api.tickets import get_visible_ticket


def to_read(email: OutboundEmail) -> EmailDeliveryRead:
    waiting = email.status in (OutboundStatus.pending, OutboundStatus.sending)
    return EmailDeliveryRead(
        id=email.id,
        kind=email.kind,
        message_id=email.message_id,
        mail_from=email.mail_from,
        recipients=email.recipients,
        subject=email.subject,
        status=email.status,
        attempts=email.attempts,
        next_attempt_at=email.next_attempt_at if waiting else None,
        last_error=email.last_error,
        created_at=email.created_at,
        sent_at=email.sent_at,
        comment_id=email.comment_id,
    )


async def list_ticket_deliveries(
    session: AsyncSession, principal: Principal, ticket_id: int, *, limit: int, cursor: str | None
) -> tuple[list[EmailDeliveryRead], str | None]:
    """Staff only (the route says so); a ticket the caller may not see is 404."""
    await get_visible_ticket(session, principal, ticket_id)
    rows, next_cursor = await paginate(
        session,
        select(OutboundEmail).where(OutboundEmail.ticket_id == ticket_id),
        keys=[SortKey(OutboundEmail.id, lambda e: e.id, descending=True)],
        limit=limit,
        cursor=cursor,
    )
    return [to_read(row) for row in rows], next_cursor

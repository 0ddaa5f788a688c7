"""Mail that could not be processed: listed for admins, retried or discarded by them.

Retrying processes the stored raw message again (after, say, a fix or a new mailbox
setting); discarding keeps the raw message for the record but stops it being listed.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from helpdesk_api.core.errors import Conflict, NotFound
from helpdesk_api.core.settings import Settings
from helpdesk_api.mail.channel_schemas import InboundEmailRead
from helpdesk_api.mail.intake import process_stored
from helpdesk_api.models import EmailChannel, InboundEmail, InboundStatus


def to_read(email: InboundEmail) -> InboundEmailRead:
    return InboundEmailRead.model_validate(email, from_attributes=True)


async def get_inbound(
    session: AsyncSession, channel: EmailChannel, email_id: int, *, for_update: bool = False
) -> InboundEmail:
    statement = select(InboundEmail).where(
        InboundEmail.id == email_id, InboundEmail.channel_id == channel.id
    )
    if for_update:
        statement = statement.with_for_update().options(undefer(InboundEmail.raw))
    email = await session.scalar(statement)
    if email is None:
        raise NotFound(f"Mailbox {channel.id} has no message {email_id}.")
    return email


def _ensure_failed(email: InboundEmail) -> None:
    if email.status != InboundStatus.failed:
        raise Conflict(f"Message {email.id} is {email.status}, not failed.")


async def retry(
    session: AsyncSession,
    channel: EmailChannel,
    email_id: int,
    *,
    settings: Settings,
    now: datetime,
) -> InboundEmail:
    email = await get_inbound(session, channel, email_id, for_update=True)
    _ensure_failed(email)
    email.status = InboundStatus.received
    await process_stored(session, email, raw=email.raw, channel=channel, settings=settings, now=now)
    return email


async def discard(session: AsyncSession, channel: EmailChannel, email_id: int) -> InboundEmail:
    email = await get_inbound(session, channel, email_id, for_update=True)
    _ensure_failed(email)
    email.status = InboundStatus.discarded
    await session.flush()
    return email

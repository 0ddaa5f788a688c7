"""What an inbound message becomes: a new ticket, a comment on its thread, or nothing.

Being built (issue 13): until the threading and ticket rules land here, a stored message is
marked received and left for processing; nothing is acknowledged to a customer.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.settings import Settings
from helpdesk_api.models import EmailChannel, InboundEmail


async def process_inbound(
    session: AsyncSession,
    email: InboundEmail,
    *,
    raw: bytes,
    channel: EmailChannel | None,
    settings: Settings,
    now: datetime,
) -> None:
    """Raise to quarantine the message; the caller keeps it with the error."""
    del session, email, raw, channel, settings, now

"""Every way mail comes in ends here: store the raw message first, then process it.

The raw message and what it became are written in one transaction, and processing runs in a
savepoint: a message that cannot be processed is kept, marked failed with its error, and the
transaction still commits. So a transport may acknowledge a message (SMTP's 250, an IMAP
move, a 202) as soon as the caller's commit succeeds, and nothing acknowledged is lost.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.settings import Settings
from helpdesk_api.mail.channel_schemas import InboundEmailRead
from helpdesk_api.mail.processing import process_inbound
from helpdesk_api.models import EmailChannel, InboundEmail, InboundSource, InboundStatus

logger = logging.getLogger("helpdesk_api.mail")
_ERROR_KEEP_CHARS = 2000


@dataclass(frozen=True)
class Received:
    email: InboundEmail
    duplicate: bool  # the same message was already here: nothing was done twice


def _header_message_id(raw: bytes) -> str | None:
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        value = str(headers.get("message-id") or "")
    except Exception:  # a header that will not even parse: processing will quarantine it
        return None
    value = value.strip().strip("<>").strip()
    if not value or len(value) > 900 or any(c.isspace() for c in value):
        return None
    return value


def dedupe_key(raw: bytes) -> tuple[str, str | None]:
    message_id = _header_message_id(raw)
    if message_id is not None:
        return f"mid:{message_id}", message_id
    return f"sha256:{hashlib.sha256(raw).hexdigest()}", None


async def receive(
    session: AsyncSession,
    *,
    raw: bytes,
    source: InboundSource,
    channel: EmailChannel | None,
    settings: Settings,
    now: datetime,
    envelope_from: str | None = None,
    envelope_to: tuple[str, ...] = (),
) -> Received:
    """Store a message and process it. Never commits: the transport commits, then acks."""
    key, message_id = dedupe_key(raw)
    inserted = await session.scalar(
        insert(InboundEmail)
        .values(
            channel_id=channel.id if channel is not None else None,
            dedupe_key=key,
            message_id=message_id,
            source=source.value,
            envelope_from=envelope_from,
            envelope_to=list(envelope_to),
            size=len(raw),
            raw=raw,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(InboundEmail.id)
    )
    if inserted is None:
        existing = await session.scalar(select(InboundEmail).where(InboundEmail.dedupe_key == key))
        assert existing is not None  # the conflict that skipped our insert names it
        return Received(existing, duplicate=True)
    email = await session.get_one(InboundEmail, inserted)
    await process_stored(session, email, raw=raw, channel=channel, settings=settings, now=now)
    return Received(email, duplicate=False)


async def process_stored(
    session: AsyncSession,
    email: InboundEmail,
    *,
    raw: bytes,
    channel: EmailChannel | None,
    settings: Settings,
    now: datetime,
) -> None:
    """Process a stored message in a savepoint; on any error keep it, failed, with the error."""
    email.attempts += 1
    await session.flush()
    email_id = email.id
    try:
        async with session.begin_nested():
            await process_inbound(
                session, email, raw=raw, channel=channel, settings=settings, now=now
            )
    except Exception as exc:
        logger.warning(
            "inbound mail quarantined", extra={"inbound_email_id": email_id, "error": str(exc)}
        )
        # The savepoint's rollback expired what it touched: read the row back first.
        await session.refresh(email)
        email.status = InboundStatus.failed
        email.error = f"{type(exc).__name__}: {exc}"[:_ERROR_KEEP_CHARS]
        email.processed_at = now
        await session.flush()
        await record_event(
            session,
            EventType.inbound_email_failed,
            actor_id=None,
            via="email",
            data={"inbound_email": InboundEmailRead.model_validate(email).model_dump(mode="json")},
        )

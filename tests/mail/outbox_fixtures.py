"""Mailboxes, tickets and outbox rows for the outbox tests, written the way the service writes
them: through ``assembly.connect`` sessions, committed."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.assembly import connect
from helpdesk_api.core.settings import Settings
from helpdesk_api.mail.outgoing import OutboundRecipient, OutgoingMail, enqueue
from helpdesk_api.models import EmailChannel, InboundEmail, OutboundEmail, Ticket
from tests.factories import make_user_with_token
from tests.tickets.factories import make_ticket

SUPPORT = "support@acme.test"


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine, sessionmaker = connect(database_url, pool_size=2, max_overflow=0)
    try:
        yield sessionmaker
    finally:
        await engine.dispose()


async def add_mailbox(
    sessions: async_sessionmaker[AsyncSession], address: str = SUPPORT, **values: Any
) -> EmailChannel:
    async with sessions() as session, session.begin():
        mailbox = EmailChannel(
            name=values.pop("name", address),
            address=address,
            display_name=values.pop("display_name", "Acme Support"),
            **values,
        )
        session.add(mailbox)
    return mailbox


@pytest.fixture
async def mailbox(sessions: async_sessionmaker[AsyncSession]) -> EmailChannel:
    return await add_mailbox(sessions)


@pytest.fixture
async def customer_ticket(client: Any) -> dict[str, Any]:
    """A customer's ticket: ``ticket``, ``customer`` and the customer's ``headers``."""
    customer, headers = await make_user_with_token(client, name="Иван Петров")
    ticket = await make_ticket(client, requester_id=customer["id"])
    return {"ticket": ticket, "customer": customer, "headers": headers}


async def use_mailbox(
    sessions: async_sessionmaker[AsyncSession], ticket_id: int, mailbox_id: int
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(email_channel_id=mailbox_id)
        )


async def add_inbound(
    sessions: async_sessionmaker[AsyncSession],
    ticket_id: int,
    message_ids: list[str],
    *,
    start: datetime | None = None,
) -> None:
    """Messages that came in on the ticket, a minute apart, in the order given."""
    start = start or datetime.now(UTC) - timedelta(hours=1)
    async with sessions() as session, session.begin():
        for n, message_id in enumerate(message_ids):
            session.add(
                InboundEmail(
                    dedupe_key=f"mid:{message_id}",
                    message_id=message_id,
                    source="api",
                    size=1,
                    raw=b"x",
                    status="processed",
                    ticket_id=ticket_id,
                    received_at=start + timedelta(minutes=n),
                )
            )


async def enqueue_one(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    now: datetime | None = None,
    channel: EmailChannel | None = None,
    **fields: Any,
) -> OutboundEmail | None:
    """``enqueue`` in a transaction of its own, committed; the row as read back."""
    values: dict[str, Any] = {
        "kind": "public_reply",
        "recipient": OutboundRecipient("ivan@example.com", "Иван Петров"),
        "subject": "Ответ на ваш запрос",
        "text": "Здравствуйте!\n\nПринтер починили.\n",
        **fields,
    }
    async with sessions() as session, session.begin():
        row = await enqueue(
            session,
            OutgoingMail(**values),
            settings=settings,
            now=now or datetime.now(UTC),
            channel=channel,
        )
        row_id = row.id if row is not None else None
    if row_id is None:
        return None
    async with sessions() as session:
        return await session.scalar(select(OutboundEmail).where(OutboundEmail.id == row_id))

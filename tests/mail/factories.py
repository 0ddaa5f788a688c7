"""Mailboxes written straight into a test database, and what came in, read back."""

import itertools
from typing import Any

import asyncpg

from helpdesk_api.assembly import connect
from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.models import EmailChannel

_counter = itertools.count(1)


async def make_mailbox(database_url: str, **overrides: Any) -> EmailChannel:
    """An EmailChannel row (the API for mailboxes does not exist yet)."""
    n = next(_counter)
    values: dict[str, Any] = {"name": f"Support {n}", "address": f"support{n}@example.test"}
    values.update(overrides)
    values["address"] = values["address"].lower()
    engine, sessionmaker = connect(database_url, pool_size=1, max_overflow=0)
    try:
        async with sessionmaker() as session:
            channel = EmailChannel(**values)
            session.add(channel)
            await session.commit()
            return channel
    finally:
        await engine.dispose()


async def fetch_rows(database_url: str, query: str, *args: object) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        return [dict(row) for row in await connection.fetch(query, *args)]
    finally:
        await connection.close()


async def inbound_emails(
    database_url: str, *, message_id: str | None = None, channel_id: int | None = None
) -> list[dict[str, Any]]:
    """The stored messages, all or those with this Message-ID (without its angle brackets)
    or for this mailbox."""
    return await fetch_rows(
        database_url,
        "SELECT id, channel_id, message_id, source, envelope_from, envelope_to, raw, status "
        "FROM inbound_emails WHERE ($1::text IS NULL OR message_id = $1) "
        "AND ($2::bigint IS NULL OR channel_id = $2) ORDER BY id",
        message_id,
        channel_id,
    )


async def mailbox_row(database_url: str, channel_id: int) -> dict[str, Any]:
    rows = await fetch_rows(database_url, "SELECT * FROM email_channels WHERE id = $1", channel_id)
    return rows[0]

"""After each test, every event its database recorded must fit the event catalogue: so the
whole suite checks every emitter, without a check on the request path."""

import json

import asyncpg

from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.core.event_types import EventType
from helpdesk_api.event_catalogue.catalogue import CATALOGUE, EventPayloadInvalid, validate_payload


async def check_recorded_events(database_url: str) -> int:
    """Validates every row of ``events``; returns how many. Raises EventPayloadInvalid."""
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        rows = await connection.fetch("SELECT id, type, is_public, data::text FROM events")
    finally:
        await connection.close()
    for row in rows:
        try:
            validate_payload(row["type"], json.loads(row["data"]))
        except EventPayloadInvalid as exc:
            raise EventPayloadInvalid(f"event {row['id']}: {exc}") from None
        if row["is_public"] and CATALOGUE[EventType(row["type"])].customer_payload is None:
            raise EventPayloadInvalid(
                f"event {row['id']} ({row['type']}) is public, but the catalogue gives "
                "customers no view of that type"
            )
    return len(rows)

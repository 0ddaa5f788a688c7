"""Channels and their messages, through the HTTP API as bridges and admins use it."""

import itertools
from typing import Any

import asyncpg
import httpx

from helpdesk_api.core.settings import Settings
from tests.factories import ADMIN, bearer

_ids = itertools.count(1)


async def make_channel(
    client: httpx.AsyncClient, kind: str = "chat", **body: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/channels", json={"kind": kind, "name": f"{kind} {next(_ids)}", **body}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    channel: dict[str, Any] = response.json()
    return channel


async def send(
    client: httpx.AsyncClient,
    channel: dict[str, Any],
    text: str = "Hello, my order did not arrive",
    *,
    sender: tuple[str, str] = ("whatsapp", "+39 333 1234567"),
    external_id: str | None = None,
    **body: Any,
) -> httpx.Response:
    payload = {
        "external_id": external_id or f"ext-{next(_ids)}",
        "sender": {"kind": sender[0], "value": sender[1]},
        "text": text,
        **body,
    }
    return await client.post(
        f"/v1/channels/{channel['id']}/messages", json=payload, headers=bearer(channel["secret"])
    )


async def count(database_url: str, sql: str, *args: Any) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval(sql, *args))
    finally:
        await connection.close()


async def deliveries(database_url: str, ticket_id: int) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url)
    try:
        return list(
            await connection.fetch(
                "SELECT * FROM channel_deliveries WHERE ticket_id = $1 ORDER BY id", ticket_id
            )
        )
    finally:
        await connection.close()


def fast_retries(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_retry_schedule": "0.05,0.05,0.05"})

from typing import Any

import asyncpg
import httpx

from helpdesk_api.core.db import to_libpq_url
from tests.factories import ADMIN


async def merge(
    client: httpx.AsyncClient,
    target_id: int,
    source_ids: list[int],
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    return await client.post(
        f"/v1/tickets/{target_id}/merge",
        json={"source_ids": source_ids, **body},
        headers=headers or ADMIN,
    )


async def link(
    client: httpx.AsyncClient,
    ticket_id: int,
    other_id: int,
    kind: str = "related",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"/v1/tickets/{ticket_id}/links",
        json={"ticket_id": other_id, "kind": kind},
        headers=headers or ADMIN,
    )


async def comments(
    client: httpx.AsyncClient, ticket_id: int, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/v1/tickets/{ticket_id}/comments?limit=100", headers=headers or ADMIN
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


async def fetch(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()

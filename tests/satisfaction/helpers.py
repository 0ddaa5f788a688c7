import re
from email import message_from_bytes, policy
from typing import Any

import asyncpg
import httpx

from tests.factories import ADMIN
from tests.tickets.factories import status_id

TOKEN = re.compile(r"https://support\.example\.com/rate/(cs_[A-Za-z0-9_-]+)\?score=good")


async def set_status(client: httpx.AsyncClient, ticket_id: int, category: str) -> None:
    response = await client.patch(
        f"/v1/tickets/{ticket_id}",
        json={"status_id": await status_id(client, category)},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text


async def rating_tokens(client: httpx.AsyncClient, database_url: str, ticket_id: int) -> list[str]:
    """The rating tokens of the ticket's status notices, oldest first, read from the mail."""
    response = await client.get(f"/v1/tickets/{ticket_id}/deliveries", headers=ADMIN)
    assert response.status_code == 200, response.text
    ids = [d["id"] for d in reversed(response.json()["data"]) if d["kind"] == "status_changed"]
    connection = await asyncpg.connect(database_url)
    try:
        tokens = []
        for delivery_id in ids:
            raw = await connection.fetchval(
                "SELECT raw FROM outbound_emails WHERE id = $1", delivery_id
            )
            mail = message_from_bytes(raw, policy=policy.default)
            text = mail.get_body(preferencelist=("plain",)).get_content()
            html = mail.get_body(preferencelist=("html",)).get_content()
            found = TOKEN.findall(text)
            if found:
                assert found[0] in html
                tokens.append(found[0])
        return tokens
    finally:
        await connection.close()


async def events_of(database_url: str, ticket_id: int, prefix: str) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT type, is_public, actor_id, actor_via FROM events "
            "WHERE ticket_id = $1 AND type LIKE $2 ORDER BY id",
            ticket_id,
            prefix + "%",
        )
        return [dict(r) for r in rows]
    finally:
        await connection.close()

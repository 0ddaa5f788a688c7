"""Tickets and comments as rows, until the tickets API can create them."""

from typing import Any

import asyncpg
import httpx

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.models import Role, TicketAccess


async def insert_ticket(database_url: str, *, requester_id: int) -> int:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        ticket_id: int = await connection.fetchval(
            """
            INSERT INTO tickets (subject, requester_id, submitter_id, status_id, status_category,
                                 priority, priority_rank, channel)
            VALUES ('Printer on fire', $1, $1,
                    (SELECT id FROM ticket_statuses WHERE category = 'new' AND is_default),
                    'new', 'normal', 2, 'api')
            RETURNING id
            """,
            requester_id,
        )
    finally:
        await connection.close()
    return ticket_id


async def insert_comment(database_url: str, *, ticket_id: int, author_id: int, public: bool) -> int:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        comment_id: int = await connection.fetchval(
            "INSERT INTO ticket_comments (ticket_id, author_id, body, is_public)"
            " VALUES ($1, $2, 'See the attached file.', $3) RETURNING id",
            ticket_id,
            author_id,
            public,
        )
    finally:
        await connection.close()
    return comment_id


def principal_of(user: dict[str, Any]) -> Principal:
    return Principal(
        user_id=user["id"],
        role=Role(user["role"]),
        name=user["name"],
        ticket_access=user.get("ticket_access", TicketAccess.all),
        token_id=0,
    )


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes = b"%PDF-1.7 report",
    *,
    filename: str = "report.pdf",
    content_type: str = "application/pdf",
) -> dict[str, Any]:
    response = await client.post(
        "/v1/attachments",
        params={"filename": filename},
        content=content,
        headers={**headers, "Content-Type": content_type},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body

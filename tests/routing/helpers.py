"""Routing's test world, made through the HTTP API as a client would."""

import itertools
import json
from typing import Any

import httpx

from tests.factories import ADMIN, make_user_with_token
from tests.mail.factories import fetch_rows
from tests.tickets.factories import make_ticket

_names = itertools.count(1)


async def make_agent(
    client: httpx.AsyncClient,
    *,
    skills: tuple[str, ...] = (),
    availability: str | None = "online",
    role: str = "agent",
) -> tuple[int, dict[str, str]]:
    """An agent (or admin) with these skills, who has said they are ``availability``."""
    user, headers = await make_user_with_token(client, role=role, skills=list(skills))
    if availability is not None:
        await set_availability(client, headers, availability)
    return user["id"], headers


async def set_availability(
    client: httpx.AsyncClient, headers: dict[str, str], availability: str
) -> dict[str, Any]:
    response = await client.put(
        "/v1/me/availability", json={"availability": availability}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def routed_group(client: httpx.AsyncClient, mode: str, *members: int, **routing: Any) -> int:
    response = await client.post(
        "/v1/groups",
        json={"name": f"Queue {next(_names)}", "routing": {"mode": mode, **routing}},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    group_id: int = response.json()["id"]
    for user_id in members:
        added = await client.put(f"/v1/groups/{group_id}/members/{user_id}", headers=ADMIN)
        assert added.status_code == 204, added.text
    return group_id


async def new_ticket(
    client: httpx.AsyncClient, group_id: int | None, **fields: Any
) -> dict[str, Any]:
    if group_id is not None:
        fields["group_id"] = group_id
    return await make_ticket(client, **fields)


async def events_of(database_url: str, event_type: str) -> list[dict[str, Any]]:
    """Recorded events of a type, oldest first, straight from the database: the feed shows
    an event only once every older transaction in the cluster has ended, which other tests'
    databases on the same server can hold back."""
    rows = await fetch_rows(
        database_url,
        "SELECT type, actor_id, actor_via, ticket_id, data::text AS data FROM events "
        "WHERE type = $1 ORDER BY id",
        event_type,
    )
    return [{**row, "data": json.loads(row["data"])} for row in rows]


async def failures(database_url: str, ticket_id: int | None = None) -> list[dict[str, Any]]:
    """The ``assignment.failed`` events' data, oldest first (of one ticket, when given)."""
    found = [e["data"] for e in await events_of(database_url, "assignment.failed")]
    return [d for d in found if ticket_id is None or d["ticket_id"] == ticket_id]

from typing import Any

import httpx

from tests.factories import ADMIN


async def make_ticket(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"subject": "Printer on fire", "comment": {"body": "It is on fire."}}
    body.update(overrides)
    response = await client.post("/v1/tickets", json=body, headers=headers or ADMIN)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def status_id(client: httpx.AsyncClient, category: str) -> int:
    response = await client.get(f"/v1/ticket-statuses?category={category}", headers=ADMIN)
    statuses = [s for s in response.json()["data"] if s.get("is_default", True)]
    return int(statuses[0]["id"])


async def comment(
    client: httpx.AsyncClient, ticket_id: int, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/tickets/{ticket_id}/comments", json=body, headers=headers)


async def make_group(client: httpx.AsyncClient, name: str, *members: int) -> dict[str, Any]:
    response = await client.post("/v1/groups", json={"name": name}, headers=ADMIN)
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    for user_id in members:
        added = await client.put(f"/v1/groups/{group['id']}/members/{user_id}", headers=ADMIN)
        assert added.status_code == 204, added.text
    return group


async def get_ticket(
    client: httpx.AsyncClient, ticket_id: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.get(f"/v1/tickets/{ticket_id}", headers=headers or ADMIN)
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def update_ticket(
    client: httpx.AsyncClient,
    ticket_id: int,
    headers: dict[str, str] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    response = await client.patch(
        f"/v1/tickets/{ticket_id}", json=changes, headers=headers or ADMIN
    )
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def audits(client: httpx.AsyncClient, ticket_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/tickets/{ticket_id}/audits?limit=100", headers=ADMIN)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


async def walk(
    client: httpx.AsyncClient,
    path: str,
    params: dict[str, Any] | list[tuple[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    *,
    limit: int = 2,
) -> list[list[dict[str, Any]]]:
    """Every page of a list, following `next_cursor` until it is null."""
    base = list(params.items()) if isinstance(params, dict) else list(params or [])
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = [*base, ("limit", limit)] + ([("cursor", cursor)] if cursor else [])
        response = await client.get(path, params=query, headers=headers or ADMIN)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) <= 100, "pagination does not end"


async def listed_ids(
    client: httpx.AsyncClient,
    params: dict[str, Any] | list[tuple[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> list[int]:
    """Ids of every ticket `GET /v1/tickets` returns for ``params``, in order, all pages."""
    pages = await walk(client, "/v1/tickets", params, headers, limit=100)
    return [t["id"] for page in pages for t in page]

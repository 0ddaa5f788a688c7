from typing import Any

import httpx

from tests.factories import ADMIN


def macro_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Ask for the invoice number",
        "visibility": "shared",
        "actions": [{"action": "set_priority", "priority": "high"}],
        "comment": {"body_template": "Hello {{ ticket.requester.first_name }}", "public": True},
    }
    body.update(overrides)
    return body


async def make_macro(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/macros", json=macro_body(**overrides), headers=headers or ADMIN
    )
    assert response.status_code == 201, response.text
    macro: dict[str, Any] = response.json()
    return macro


async def apply(
    client: httpx.AsyncClient,
    ticket_id: int,
    macro_ids: list[int],
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    request_headers = dict(headers or ADMIN) | extra.pop("request_headers", {})
    return await client.post(
        f"/v1/tickets/{ticket_id}/macros/apply",
        json={"macro_ids": macro_ids, **extra},
        headers=request_headers,
    )

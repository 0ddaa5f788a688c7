from typing import Any

import httpx

from tests.factories import ADMIN


async def make_field(
    client: httpx.AsyncClient, kind: str = "ticket", **body: Any
) -> dict[str, Any]:
    body = {"title": body.get("key", "Field").replace("_", " ").title(), **body}
    response = await client.post(f"/v1/{kind}-fields", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def error_locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["errors"]]

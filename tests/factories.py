"""Small helpers that create things through the HTTP API, as a client would."""

import asyncio
import itertools
from typing import Any

import httpx

from tests.database import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
_counter = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_user(
    client: httpx.AsyncClient, *, role: str = "customer", **overrides: Any
) -> dict[str, Any]:
    n = next(_counter)
    body: dict[str, Any] = {
        "name": f"{role.title()} {n}",
        "email": f"{role}{n}@example.com",
        "role": role,
    }
    body.update(overrides)
    response = await client.post("/v1/users", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


async def make_token(client: httpx.AsyncClient, user_id: int) -> str:
    response = await client.post(f"/v1/users/{user_id}/tokens", json={}, headers=ADMIN)
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


async def make_user_with_token(
    client: httpx.AsyncClient, *, role: str = "customer", **overrides: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    user = await make_user(client, role=role, **overrides)
    return user, bearer(await make_token(client, user["id"]))


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    assert "Traceback" not in response.text
    assert "sqlalchemy" not in response.text.lower()
    return body


async def feed_once_visible(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    """The feed page at ``path`` once it holds an event (up to 10 s). The feed shows an event
    only when every older transaction on the server has ended, and the parallel suite keeps
    some open; ask a reader who may see it first, then assert what others see."""
    for _ in range(100):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        if data:
            return data
        await asyncio.sleep(0.1)
    return data

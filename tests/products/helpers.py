from typing import Any

import httpx

from tests.factories import ADMIN

_n = iter(range(1, 10**6))


async def make_product(client: httpx.AsyncClient, name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "sku": f"SKU-{next(_n)}", "category": "routers"}
    body.update(overrides)
    response = await client.post("/v1/products", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def make_asset(
    client: httpx.AsyncClient, user_id: int, product_id: int, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/users/{user_id}/assets", json={"product_id": product_id, **fields}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    asset: dict[str, Any] = response.json()
    return asset

"""Knowledge base content made through the API, as an admin would."""

from typing import Any

import httpx

from tests.factories import ADMIN


async def make_section(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    if "category_id" not in body:
        category = await client.post("/v1/kb/categories", json={"name": "Help"}, headers=ADMIN)
        assert category.status_code == 201, category.text
        body["category_id"] = category.json()["id"]
    body.setdefault("name", "Accounts")
    response = await client.post("/v1/kb/sections", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    section: dict[str, Any] = response.json()
    return section


async def make_article(
    client: httpx.AsyncClient,
    section_id: int,
    texts: dict[str, tuple[str, str]],
    *,
    status: str = "published",
    headers: dict[str, str] | None = None,
    **body: Any,
) -> dict[str, Any]:
    """An article with a translation per locale: ``{locale: (title, body)}``."""
    body.setdefault("visibility", "public")
    body.setdefault("source_locale", next(iter(texts)))
    response = await client.post(
        "/v1/kb/articles", json={"section_id": section_id, **body}, headers=headers or ADMIN
    )
    assert response.status_code == 201, response.text
    article: dict[str, Any] = response.json()
    for locale, (title, text) in texts.items():
        written = await client.put(
            f"/v1/kb/articles/{article['id']}/translations/{locale}",
            json={"title": title, "body": text, "status": status},
            headers=headers or ADMIN,
        )
        assert written.status_code == 201, written.text
    return article


async def public_ids(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **params: Any
) -> list[int]:
    response = await client.get("/v1/public/kb/articles", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]

from typing import Any

import httpx

from tests.factories import ADMIN

SUPPORT = "support@help.example.com"
RFC822 = {**ADMIN, "Content-Type": "message/rfc822"}


async def make_mailbox(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Support", "address": SUPPORT, **overrides}
    response = await client.post("/v1/email-channels", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    mailbox: dict[str, Any] = response.json()
    return mailbox


async def deliver(client: httpx.AsyncClient, mailbox_id: int, raw: bytes) -> dict[str, Any]:
    response = await client.post(
        f"/v1/email-channels/{mailbox_id}/inbound", content=raw, headers=RFC822
    )
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()
    return result

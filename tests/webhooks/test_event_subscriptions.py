"""Webhook subscriptions name known event types (or "*"): a misspelt type is refused."""

import pytest

from tests.factories import ADMIN, assert_problem


@pytest.mark.parametrize("events", [["ticket.craeted"], ["*", "nope"], ["Ticket.Created"], [""]])
async def test_webhook_subscription_to_an_unknown_type_is_422_and_creates_nothing(client, events):
    body = {"url": "http://127.0.0.1:9/x", "events": events}
    problem = assert_problem(await client.post("/v1/webhooks", json=body, headers=ADMIN), 422)
    assert problem["errors"][0]["loc"][:2] == ["body", "events"]
    assert (await client.get("/v1/webhooks", headers=ADMIN)).json()["data"] == []


async def test_webhook_subscription_to_known_types_or_star_is_accepted(client):
    url = "http://127.0.0.1:9/x"
    for events in (["*"], ["ticket.created", "sla.breached"]):
        response = await client.post(
            "/v1/webhooks", json={"url": url, "events": events}, headers=ADMIN
        )
        assert response.status_code == 201, response.text
        assert response.json()["events"] == sorted(events)
    created = response.json()
    patched = await client.patch(
        f"/v1/webhooks/{created['id']}", json={"events": ["user.creatd"]}, headers=ADMIN
    )
    assert_problem(patched, 422)

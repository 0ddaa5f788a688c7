"""The event catalogue: one model per type, the check every test's events go through, the
feed's and webhooks' type filters, GET /v1/event-types and the OpenAPI webhooks section."""

import asyncio

import asyncpg
import pytest

from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.core.event_types import EventType
from helpdesk_api.event_catalogue.catalogue import CATALOGUE, EventPayloadInvalid, validate_payload
from tests.event_check import check_recorded_events
from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.tickets.factories import make_ticket


def test_every_event_type_has_a_payload_model_and_a_description():
    assert set(CATALOGUE) == set(EventType)
    assert all(spec.description for spec in CATALOGUE.values())


def test_validation_refuses_unknown_types_missing_and_extra_fields():
    with pytest.raises(EventPayloadInvalid, match="not in the event catalogue"):
        validate_payload("ticket.exploded", {})
    with pytest.raises(EventPayloadInvalid, match="group_id"):
        validate_payload("group.updated", {"changes": []})
    with pytest.raises(EventPayloadInvalid, match="secret"):
        validate_payload("webhook.secret_rotated", {"webhook_id": 1, "secret": "whsec_x"})
    with pytest.raises(EventPayloadInvalid, match="from"):
        validate_payload("group.updated", {"group_id": 1, "changes": [{"field": "x", "to": 1}]})
    ok = {"group_id": 1, "changes": [{"field": "name", "from": "a", "to": "b"}]}
    assert validate_payload("group.updated", ok).model_dump(by_alias=True) == ok


@pytest.mark.unchecked_events  # it writes a malformed event on purpose
async def test_the_after_test_check_catches_a_malformed_event(client, database_url):
    await make_user(client, role="agent")
    assert await check_recorded_events(database_url) == 1
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        await connection.execute(
            "INSERT INTO events (type, data) VALUES ('group.updated', '{\"group_id\": 1}')"
        )
        with pytest.raises(EventPayloadInvalid, match="changes"):
            await check_recorded_events(database_url)
        await connection.execute(
            'UPDATE events SET data = \'{"group_id": 1, "changes": []}\', is_public = true '
            "WHERE type = 'group.updated'"
        )
        with pytest.raises(EventPayloadInvalid, match="public"):
            await check_recorded_events(database_url)
    finally:
        await connection.close()


async def test_feed_filters_by_known_types_and_refuses_unknown_ones(client):
    await make_ticket(client)
    await make_user(client, role="agent")
    # The feed's horizon is cluster-wide: another test's transaction may hold events back.
    seen: list[dict] = []
    for _ in range(100):
        page = await client.get("/v1/events", params={"type": "user.created"}, headers=ADMIN)
        assert page.status_code == 200
        seen = page.json()["data"]
        if seen:
            break
        await asyncio.sleep(0.05)
    assert [e["type"] for e in seen] == ["user.created"]
    body = assert_problem(
        await client.get("/v1/events", params={"type": "user.craeted"}, headers=ADMIN), 422
    )
    assert body["errors"][0]["loc"][:2] == ["query", "type"]


async def test_event_types_lists_every_type_with_its_schema_for_staff_only(client):
    response = await client.get("/v1/event-types", headers=ADMIN)
    assert response.status_code == 200
    listed = {t["type"]: t for t in response.json()["data"]}
    assert set(listed) == {t.value for t in EventType}
    updated = listed["ticket.updated"]
    assert updated["description"]
    assert set(updated["payload_schema"]["required"]) == {"ticket", "changes"}
    assert updated["customer_visible"] is False
    assert updated["customer_payload_schema"] is None
    comment = listed["comment.created"]
    assert comment["customer_visible"] is True
    assert set(comment["customer_payload_schema"]["properties"]) == {"comment", "public"}
    change = listed["group.updated"]["payload_schema"]["$defs"]["Change"]
    assert set(change["required"]) == {"field", "from", "to"}

    _, agent = await make_user_with_token(client, role="agent")
    assert (await client.get("/v1/event-types", headers=agent)).status_code == 200
    _, customer = await make_user_with_token(client)
    assert_problem(await client.get("/v1/event-types", headers=customer), 403)
    assert_problem(await client.get("/v1/event-types"), 401)


async def test_openapi_documents_every_webhook_message(client):
    document = (await client.get("/openapi.json")).json()
    # Every event type, and what a messaging channel's webhook receives for a reply.
    assert set(document["webhooks"]) == {t.value for t in EventType} | {"channel.reply"}
    schemas = document["components"]["schemas"]
    body = document["webhooks"]["comment.created"]["post"]["requestBody"]
    message = schemas[body["content"]["application/json"]["schema"]["$ref"].split("/")[-1]]
    assert set(message["required"]) == {"type", "timestamp", "data"}
    data = schemas[message["properties"]["data"]["$ref"].split("/")[-1]]
    assert {"comment", "public", "event_id", "ticket_id"} <= set(data["required"])
    # Sent as serialised: an attachment's computed content_url is part of the message.
    assert "content_url" in schemas["AttachmentRead"]["properties"]

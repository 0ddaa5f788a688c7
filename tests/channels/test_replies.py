"""Agents' public replies go back through the channel's webhook, signed, after commit, by the
worker's job; private notes and the customer's own messages never do."""

import asyncio
import json
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook as Verifier

from helpdesk_api.channels.delivery import ChannelDeliveryJob
from tests.channels.factories import deliveries, fast_retries, make_channel, send
from tests.factories import ADMIN, feed_once_visible
from tests.tickets.factories import comment
from tests.webhooks.receiver import receiver


async def _run_until_settled(job, sessions, database_url, ticket_id, rounds=40):
    for _ in range(rounds):
        await job(sessions, datetime.now(UTC))
        rows = await deliveries(database_url, ticket_id)
        if rows and all(r["status"] not in ("pending", "delivering") for r in rows):
            return rows
        await asyncio.sleep(0.06)
    raise AssertionError(f"deliveries did not settle: {[dict(r) for r in rows]}")


async def test_public_replies_are_delivered_signed_and_retried_notes_never(
    client, settings, sessions, database_url
):
    with receiver() as bridge:
        bridge.answers = [(500, 0, {}), (200, 0, {})]
        channel = await make_channel(client, "chat", webhook_url=bridge.url)
        first = (await send(client, channel, "Hello?", sender=("external", "v-1"))).json()
        ticket_id = first["ticket_id"]
        note = await comment(client, ticket_id, ADMIN, body="Private: VIP", public=False)
        assert note.status_code == 201
        reply = await comment(client, ticket_id, ADMIN, body="Hi! Checking now.")
        assert reply.status_code == 201
        await send(client, channel, "Thanks", sender=("external", "v-1"))

        rows = await deliveries(database_url, ticket_id)
        assert [(r["comment_id"], r["status"]) for r in rows] == [(reply.json()["id"], "pending")]
        job = ChannelDeliveryJob(fast_retries(settings))
        try:
            rows = await _run_until_settled(job, sessions, database_url, ticket_id)
        finally:
            await job.close()
    assert [(r["status"], r["attempts"]) for r in rows] == [("succeeded", 2)]
    assert len(bridge.requests) == 2
    assert len({r.headers["webhook-id"] for r in bridge.requests}) == 1
    message = Verifier(channel["webhook_secret"]).verify(
        bridge.requests[-1].body, bridge.requests[-1].headers
    )
    assert message["type"] == "channel.reply"
    assert message["data"]["text"] == "Hi! Checking now."
    assert message["data"]["recipient"] == {"kind": "external", "value": "v-1", "reply_to": None}
    assert all(b"VIP" not in r.body for r in bridge.requests)


async def test_a_reply_refused_for_good_is_told_to_staff(client, settings, sessions, database_url):
    with receiver() as bridge:
        bridge.answers = [(410, 0, {})]
        channel = await make_channel(client, "phone", webhook_url=bridge.url)
        first = (await send(client, channel, "Call me", sender=("phone", "+3912345678"))).json()
        await comment(client, first["ticket_id"], ADMIN, body="Calling you now.")
        job = ChannelDeliveryJob(fast_retries(settings))
        try:
            rows = await _run_until_settled(job, sessions, database_url, first["ticket_id"])
        finally:
            await job.close()
    assert [(r["status"], r["last_status_code"]) for r in rows] == [("failed", 410)]
    events = await feed_once_visible(client, "/v1/events?type=channel_delivery.failed", ADMIN)
    assert [e["data"]["status"] for e in events] == ["failed"]
    assert json.loads(rows[0]["payload"])["data"]["ticket_id"] == first["ticket_id"]

import asyncio
import itertools
import json

import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from tests.factories import ADMIN
from tests.tickets.factories import comment, make_ticket
from tests.webhooks.receiver import receiver
from tests.webhooks.worker_process import running_worker, start_worker, stop_worker


async def _webhook(client, url, events=("*",)):
    response = await client.post(
        "/v1/webhooks", json={"url": url, "events": list(events)}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _deliveries(client, webhook_id):
    response = await client.get(f"/v1/webhooks/{webhook_id}/deliveries?limit=100", headers=ADMIN)
    return response.json()["data"]


async def _wait(predicate, seconds=20.0):
    for _ in range(int(seconds / 0.1)):
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_every_event_is_delivered_and_verifies_with_standardwebhooks(client, database_url):
    with receiver() as endpoint:
        hook = await _webhook(client, endpoint.url)
        ticket = await make_ticket(client)
        await comment(client, ticket["id"], ADMIN, body="A reply")
        with running_worker(database_url):
            received = await asyncio.to_thread(endpoint.wait_for, 5)
        verifier = Verifier(hook["secret"])
        types = []
        for request in received:
            payload = verifier.verify(request.body, request.headers)
            types.append(payload["type"])
            assert request.headers["webhook-id"].startswith("msg_")
        # The ticket with its first comment; then a public reply, which opened the ticket.
        assert sorted(types) == sorted(
            ["comment.created", "ticket.created", "comment.created", "ticket.updated",
             "ticket.status_changed"]
        )  # fmt: skip
        statuses = {d["status"] for d in await _deliveries(client, hook["id"])}
        assert statuses == {"succeeded"}


async def test_only_subscribed_event_types_are_delivered(client, database_url):
    with receiver() as endpoint:
        await _webhook(client, endpoint.url, events=["ticket.created"])
        await make_ticket(client)
        with running_worker(database_url):
            received = await asyncio.to_thread(endpoint.wait_for, 1)
            await asyncio.sleep(1.0)
        assert [json.loads(r.body)["type"] for r in endpoint.requests] == ["ticket.created"]
        assert len(received) == 1


async def test_failures_are_retried_on_the_schedule_with_the_same_webhook_id(client, database_url):
    with receiver() as endpoint:
        endpoint.answers = [(500, 0, {}), (503, 0, {}), (200, 0, {})]
        hook = await _webhook(client, endpoint.url, events=["ticket.created"])
        await make_ticket(client)
        with running_worker(database_url, HELPDESK_WEBHOOK_RETRY_SCHEDULE="1,1,1"):
            received = await asyncio.to_thread(endpoint.wait_for, 3)
        ids = {r.headers["webhook-id"] for r in received}
        assert len(ids) == 1
        gaps = [b.at - a.at for a, b in itertools.pairwise(received)]
        assert all(0.8 <= gap <= 4.0 for gap in gaps), gaps
        [delivery] = await _deliveries(client, hook["id"])
        assert delivery["status"] == "succeeded"
        assert delivery["attempts"] == 3
        assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 503, 200]


async def test_timeouts_and_refused_connections_are_retried_then_given_up(client, database_url):
    with receiver() as endpoint:
        endpoint.answers = [(200, 3.0, {})]  # slower than the 2 s timeout, every time
        slow = await _webhook(client, endpoint.url, events=["ticket.created"])
        refused = await _webhook(client, "http://127.0.0.1:9/nothing", events=["ticket.created"])
        await make_ticket(client)
        with running_worker(database_url, HELPDESK_WEBHOOK_RETRY_SCHEDULE="0.5,0.5"):

            async def both_given_up():
                slow_d = await _deliveries(client, slow["id"])
                refused_d = await _deliveries(client, refused["id"])
                return (
                    slow_d and refused_d
                    and slow_d[0]["status"] == refused_d[0]["status"] == "gave_up"
                )  # fmt: skip

            await _wait(both_given_up, seconds=30)
        [slow_delivery] = await _deliveries(client, slow["id"])
        assert slow_delivery["attempts"] == 3
        assert {a["error"] for a in slow_delivery["attempt_log"]} == {"timeout"}
        [refused_delivery] = await _deliveries(client, refused["id"])
        assert refused_delivery["attempts"] == 3
        # An endpoint that failed for its whole window is disabled, and says why.
        for hook in (slow, refused):
            read = (await client.get(f"/v1/webhooks/{hook['id']}", headers=ADMIN)).json()
            assert read["active"] is False
            assert "whole retry window" in read["disabled_reason"]


async def test_gone_disables_the_endpoint(client, database_url):
    with receiver() as endpoint:
        endpoint.answers = [(410, 0, {})]
        hook = await _webhook(client, endpoint.url, events=["ticket.created"])
        await make_ticket(client)
        with running_worker(database_url):
            await asyncio.to_thread(endpoint.wait_for, 1)

            async def disabled():
                read = (await client.get(f"/v1/webhooks/{hook['id']}", headers=ADMIN)).json()
                return read["active"] is False

            await _wait(disabled)
        events = await client.get("/v1/events?type=webhook.disabled", headers=ADMIN)
        assert [e["data"]["webhook_id"] for e in events.json()["data"]] == [hook["id"]]


async def test_retry_after_is_honoured(client, database_url):
    with receiver() as endpoint:
        endpoint.answers = [(429, 0, {"Retry-After": "3"}), (200, 0, {})]
        await _webhook(client, endpoint.url, events=["ticket.created"])
        await make_ticket(client)
        with running_worker(database_url, HELPDESK_WEBHOOK_RETRY_SCHEDULE="0.2,0.2"):
            first, second = await asyncio.to_thread(endpoint.wait_for, 2)
        assert second.at - first.at >= 2.8


@pytest.mark.alters_schema
async def test_a_rolled_back_change_delivers_nothing(client, database_url, app):
    connection = await asyncpg.connect(database_url)
    await connection.execute(
        "ALTER TABLE users ADD CONSTRAINT users_name_deferred UNIQUE (name) "
        "DEFERRABLE INITIALLY DEFERRED"
    )
    await connection.close()
    with receiver() as endpoint:
        await _webhook(client, endpoint.url, events=["user.created", "ticket.created"])
        failed = await client.post("/v1/users", json={"name": "Test Admin"}, headers=ADMIN)
        assert failed.status_code == 500
        await make_ticket(client)  # a later change that does commit
        with running_worker(database_url):
            await asyncio.to_thread(endpoint.wait_for, 1)
            await asyncio.sleep(1.0)
        assert [json.loads(r.body)["type"] for r in endpoint.requests] == ["ticket.created"]


async def test_sigkill_mid_delivery_loses_nothing_and_keeps_the_webhook_id(client, database_url):
    with receiver() as endpoint:
        endpoint.answers = [(200, 5.0, {}), (200, 0, {})]  # the first attempt hangs
        hook = await _webhook(client, endpoint.url, events=["ticket.created"])
        await make_ticket(client)
        env = {"HELPDESK_WEBHOOK_TIMEOUT_SECONDS": "10"}
        doomed = start_worker(database_url, **env)
        try:
            first = (await asyncio.to_thread(endpoint.wait_for, 1))[0]
        finally:
            stop_worker(doomed, kill=True)
        # Its lease (timeout + 30 s) must expire before another worker may send again.
        connection = await asyncpg.connect(database_url)
        await connection.execute(
            "UPDATE webhook_deliveries SET claimed_until = now() - interval '1 second'"
        )
        await connection.close()
        with running_worker(database_url, **env):
            received = await asyncio.to_thread(endpoint.wait_for, 2)
        assert received[1].headers["webhook-id"] == first.headers["webhook-id"]
        [delivery] = await _deliveries(client, hook["id"])
        assert delivery["status"] == "succeeded"


async def test_two_workers_never_send_the_same_attempt_twice(client, database_url):
    with receiver() as endpoint:
        await _webhook(client, endpoint.url, events=["ticket.created"])
        for _ in range(20):
            await make_ticket(client)
        with running_worker(database_url), running_worker(database_url):
            received = await asyncio.to_thread(endpoint.wait_for, 20)
            await asyncio.sleep(1.0)
        ids = [r.headers["webhook-id"] for r in endpoint.requests]
        assert len(ids) == len(set(ids)) == 20
        assert len(received) >= 20

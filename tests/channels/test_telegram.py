"""Telegram: Bot API updates in by webhook (secret-token header, one update once), replies
out through sendMessage to a local stand-in of the Bot API, with retries."""

import asyncio
from datetime import UTC, datetime

from helpdesk_api.channels.delivery import ChannelDeliveryJob, Claimed, Outcome
from tests.channels.bot_api import BAD_GATEWAY, BLOCKED, bot_api
from tests.channels.factories import count, deliveries, fast_retries, make_channel
from tests.factories import ADMIN, assert_problem
from tests.tickets.factories import comment

TOKEN = "424242:AAH-test_token"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def update(update_id, text="Hello from Telegram", *, user_id=777001, chat_id=777001, **extra):
    """An Update as the Bot API's documentation shows it, for a private chat."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id * 10,
            "from": {"id": user_id, "is_bot": False, "first_name": "Anna", "last_name": "K",
                     "username": "anna_k", "language_code": "en"},
            "chat": {"id": chat_id, "first_name": "Anna", "type": "private"},
            "date": 1_764_400_000,
            "text": text,
            **extra,
        },
    }  # fmt: skip


async def _post(client, channel, body, secret=None):
    return await client.post(
        f"/v1/channels/telegram/{channel['id']}/webhook",
        json=body,
        headers={HEADER: secret or channel["secret"]},
    )


async def _settle(job, sessions, database_url, ticket_id):
    for _ in range(60):
        await job(sessions, datetime.now(UTC))
        rows = await deliveries(database_url, ticket_id)
        if rows and all(r["status"] not in ("pending", "delivering") for r in rows):
            return rows
        await asyncio.sleep(0.06)
    raise AssertionError("deliveries did not settle")


async def test_updates_make_a_conversation_and_replies_go_out_through_send_message(
    client, settings, sessions, database_url
):
    with bot_api(TOKEN) as api:
        channel = await make_channel(
            client, "telegram", telegram_bot_token=TOKEN, telegram_api_base_url=api.url
        )
        first = await _post(client, channel, update(5001))
        assert first.status_code == 200, first.text
        ticket_id = first.json()["ticket_id"]
        again = await _post(client, channel, update(5001, "retried by Telegram"))
        assert again.json() == {**first.json(), "duplicate": True}
        photo = update(5002, user_id=777001, photo=[{"file_id": "x", "width": 1, "height": 1}])
        del photo["message"]["text"]
        second = await _post(client, channel, photo)
        assert second.json()["ticket_id"] == ticket_id
        edited = {"update_id": 5003, "edited_message": update(0)["message"]}
        assert (await _post(client, channel, edited)).json()["outcome"] == "ignored"

        identities = await client.get(
            f"/v1/users/{first.json()['user_id']}/identities", headers=ADMIN
        )
        assert [(i["kind"], i["value"]) for i in identities.json()] == [("telegram", "777001")]
        bodies = [
            c["body"]
            for c in (await client.get(f"/v1/tickets/{ticket_id}/comments", headers=ADMIN)).json()[
                "data"
            ]
        ]
        assert bodies == ["Hello from Telegram", "[Telegram photo: not imported]"]

        api.failures = [BAD_GATEWAY]
        await comment(client, ticket_id, ADMIN, body="Internal only", public=False)
        await comment(client, ticket_id, ADMIN, body="x" * 5000)  # two messages
        job = ChannelDeliveryJob(fast_retries(settings))
        try:
            rows = await _settle(job, sessions, database_url, ticket_id)
        finally:
            await job.close()
    assert [(r["part"], r["status"]) for r in rows] == [(0, "succeeded"), (1, "succeeded")]
    sent = [body for method, body in api.calls if method == "sendMessage"]
    assert [(b["chat_id"], len(b["text"])) for b in sent] == [
        ("777001", 4096),  # the Bot API's 502, retried
        ("777001", 4096),
        ("777001", 904),
    ]
    assert all("Internal only" not in b["text"] for b in sent)


async def test_forged_secrets_and_malformed_updates_are_refused(client, database_url):
    channel = await make_channel(client, "telegram", telegram_bot_token=TOKEN)
    chat = await make_channel(client, "chat")
    assert_problem(await _post(client, channel, update(1), secret="hdch_forged"), 401)
    assert_problem(await _post(client, channel, update(1), secret=chat["secret"]), 401)
    no_header = await client.post(
        f"/v1/channels/telegram/{channel['id']}/webhook", json=update(1), headers=ADMIN
    )
    assert_problem(no_header, 401)
    assert_problem(await _post(client, channel, {"update_id": "one"}), 422)
    assert_problem(await _post(client, channel, {"message": update(1)["message"]}), 422)
    assert await count(database_url, "SELECT count(*) FROM tickets") == 0


def test_telegram_refusals_that_cannot_change_are_not_retried(settings):
    job = ChannelDeliveryJob(settings)
    item = Claimed(1, 1, 1, "telegram", "m", b"{}", 1, None, None, TOKEN, "http://x")
    assert job._next_delay(item, Outcome(403, BLOCKED[1]["description"], permanent=True)) is None
    delay = job._next_delay(item, Outcome(429, "Too Many Requests", retry_after=30.0))
    assert delay is not None
    assert delay >= 30.0

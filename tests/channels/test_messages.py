"""The generic channel API: a sender's messages become one conversation; replays, strangers
and bad input never make a partial ticket."""

import base64

import pytest

from tests.channels.factories import count, make_channel, send
from tests.factories import ADMIN, assert_problem, bearer, feed_once_visible, make_user
from tests.tickets.factories import status_id, update_ticket


async def _ticket(client, ticket_id):
    response = await client.get(f"/v1/tickets/{ticket_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


async def _comments(client, ticket_id):
    response = await client.get(f"/v1/tickets/{ticket_id}/comments", headers=ADMIN)
    return response.json()["data"]


async def test_a_senders_messages_make_one_conversation_and_replays_change_nothing(client):
    group = await client.post("/v1/groups", json={"name": "WhatsApp"}, headers=ADMIN)
    channel = await make_channel(client, "whatsapp", group_id=group.json()["id"])
    photo = base64.b64encode(b"\x89PNG fake image").decode()
    first = await send(
        client,
        channel,
        "My parcel is late\nOrder 1234",
        name="Giulia Rossi",
        external_id="wamid.1",
        attachments=[{"filename": "parcel.png", "content_type": "image/png",
                      "content_base64": photo}],
    )  # fmt: skip
    assert first.status_code == 201, first.text
    result = first.json()
    assert result["outcome"] == "new_ticket"
    assert result["duplicate"] is False
    ticket = await _ticket(client, result["ticket_id"])
    assert ticket["subject"] == "My parcel is late"
    assert ticket["channel"] == "social"
    assert ticket["group_id"] == group.json()["id"]
    customer = await client.get(f"/v1/users/{result['user_id']}/identities", headers=ADMIN)
    assert [(i["kind"], i["value"]) for i in customer.json()] == [("whatsapp", "+393331234567")]

    # The same number however written, on the same channel: the same conversation.
    follow_up = await send(client, channel, "Any news?", sender=("whatsapp", "+393331234567"))
    assert follow_up.status_code == 201
    assert follow_up.json()["outcome"] == "comment"
    assert follow_up.json()["ticket_id"] == ticket["id"]
    replay = await send(client, channel, "different text", external_id="wamid.1")
    assert replay.status_code == 200
    assert replay.json() == {**result, "duplicate": True}

    comments = await _comments(client, ticket["id"])
    assert [(c["body"], c["via"], c["author_id"]) for c in comments] == [
        ("My parcel is late\nOrder 1234", "social", result["user_id"]),
        ("Any news?", "social", result["user_id"]),
    ]
    assert [a["filename"] for a in comments[0]["attachments"]] == ["parcel.png"]
    events = await feed_once_visible(client, "/v1/events?type=channel_message.received", ADMIN)
    assert [e["data"]["message"]["external_id"] for e in events] == [
        "wamid.1",
        follow_up.json()["external_id"],
    ]


async def test_solved_conversations_reopen_within_the_window_and_closed_ones_do_not(client):
    channel = await make_channel(client, "chat", reopen_window_minutes=60)
    sender = ("external", "visitor-42")
    ticket_id = (await send(client, channel, "Hi", sender=sender)).json()["ticket_id"]
    await update_ticket(client, ticket_id, status_id=await status_id(client, "solved"))
    reopened = await send(client, channel, "Still broken", sender=sender)
    assert reopened.json()["ticket_id"] == ticket_id
    assert (await _ticket(client, ticket_id))["status"]["category"] == "open"

    await update_ticket(client, ticket_id, status_id=await status_id(client, "closed"))
    fresh = await send(client, channel, "New question", sender=sender)
    assert fresh.json()["outcome"] == "new_ticket"
    assert fresh.json()["ticket_id"] != ticket_id
    # Another channel never joins this channel's conversation.
    other = await make_channel(client, "chat")
    elsewhere = await send(client, other, "Hello", sender=sender)
    assert elsewhere.json()["ticket_id"] not in (ticket_id, fresh.json()["ticket_id"])
    assert elsewhere.json()["user_id"] == fresh.json()["user_id"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"sender": {"kind": "carrier_pigeon", "value": "x"}}, 422),
        ({"sender": {"kind": "phone", "value": "call me maybe"}}, 422),
        ({"text": "x" * 20_001}, 422),
        ({"text": "   "}, 422),
        ({"external_id": ""}, 422),
        ({"attachments": [{"filename": "a.bin", "content_base64": "!!not base64!!"}]}, 422),
        ({"attachments": [{"filename": "a.bin", "content_base64": "QUFB" * 400}]}, 413),
        ({"attachments": [{"filename": "a", "content_base64": "QQ=="}] * 11}, 422),
        ({"surprise": True}, 422),
    ],
)
async def test_bad_messages_are_refused_whole(client, database_url, settings, change, status):
    settings.max_attachment_bytes = 1000
    channel = await make_channel(client, "chat")
    body = {
        "external_id": "m-1",
        "sender": {"kind": "phone", "value": "+441234567890"},
        "text": "hello",
        **change,
    }
    response = await client.post(
        f"/v1/channels/{channel['id']}/messages", json=body, headers=bearer(channel["secret"])
    )
    assert_problem(response, status)
    assert await count(database_url, "SELECT count(*) FROM tickets") == 0
    assert await count(database_url, "SELECT count(*) FROM channel_messages") == 0


async def test_only_the_channels_own_active_secret_is_accepted(client, database_url):
    chat = await make_channel(client, "chat")
    alerts = await make_channel(client, "alertmanager")
    assert_problem(await send(client, {**chat, "secret": "hdch_forged"}), 401)
    assert_problem(await send(client, {**chat, "secret": alerts["secret"]}), 401)
    response = await client.post(
        f"/v1/channels/{chat['id']}/messages",
        json={"external_id": "x", "sender": {"kind": "phone", "value": "+12345678"}, "text": "hi"},
        headers=ADMIN,  # a user's token is not the channel's secret
    )
    assert_problem(response, 401)
    assert_problem(await send(client, {**alerts, "id": alerts["id"]}), 404)
    patched = await client.patch(
        f"/v1/channels/{chat['id']}", json={"active": False}, headers=ADMIN
    )
    assert patched.status_code == 200
    assert_problem(await send(client, chat), 409)
    staff = await make_user(
        client, role="agent", identities=[{"kind": "phone", "value": "+3912345"}]
    )
    other = await make_channel(client, "phone")
    assert_problem(await send(client, other, sender=("phone", "+3912345")), 409)
    assert staff["id"]
    assert await count(database_url, "SELECT count(*) FROM tickets") == 0


async def test_a_merged_senders_messages_follow_them_and_the_conversation_goes_on(
    client, database_url
):
    channel = await make_channel(client, "chat")
    sender = ("external", "visitor-merge")
    first = (await send(client, channel, "Hello", sender=sender)).json()
    keeper = await make_user(client, role="customer")
    merged = await client.post(
        f"/v1/users/{keeper['id']}/merge", json={"source_id": first["user_id"]}, headers=ADMIN
    )
    assert merged.status_code == 200, merged.text
    rows = "SELECT count(*) FROM channel_messages WHERE user_id = $1"
    assert await count(database_url, rows, first["user_id"]) == 0
    assert await count(database_url, rows, keeper["id"]) == 1
    # The identity moved with them: the next message is the keeper's, in the same ticket.
    again = (await send(client, channel, "Any news?", sender=sender)).json()
    assert (again["user_id"], again["ticket_id"]) == (keeper["id"], first["ticket_id"])

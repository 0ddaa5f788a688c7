"""Ticket changes put the right notices in the outbox, for the right people, in their language:
an acknowledgement, agents' public replies (never a private note), status changes that say
so, assignments and new-ticket notices by staff preference."""

from datetime import timedelta
from email import message_from_bytes, policy

import asyncpg

from helpdesk_api.notifications.formatting import format_datetime
from tests.factories import ADMIN, bearer, make_token, make_user
from tests.mail.mailboxes import deliver, make_mailbox
from tests.mail.messages import message, message_id_of
from tests.sla.helpers import clock, make_calendar, make_policy, target

__all__ = ["clock"]  # the fixed request clock, a fixture


async def _outbox(client, ticket_id):
    response = await client.get(f"/v1/tickets/{ticket_id}/deliveries", headers=ADMIN)
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["data"]))  # oldest first


async def _raw(database_url, delivery_id):
    connection = await asyncpg.connect(database_url)
    try:
        raw = await connection.fetchval(
            "SELECT raw FROM outbound_emails WHERE id = $1", delivery_id
        )
    finally:
        await connection.close()
    return message_from_bytes(raw, policy=policy.default)


async def _mail_ticket(client, sender="Ilona Kovács <ilona@example.hu>", **mailbox):
    box = await make_mailbox(client, **mailbox)
    raw = message(
        sender=sender,
        subject="Nyomtató hiba",
        body="Jó napot! A nyomtató nem működik, kérem segítsenek mielőbb. Köszönöm szépen.",
    )
    result = await deliver(client, box["id"], raw)
    return box, raw, result["ticket_id"]


async def test_a_new_mail_ticket_is_acknowledged_in_the_customers_language(client, database_url):
    _, raw, ticket_id = await _mail_ticket(client)
    [ack] = await _outbox(client, ticket_id)
    assert ack["kind"] == "acknowledgement"
    assert ack["recipients"] == ["ilona@example.hu"]
    assert f"[#{ticket_id}]" in ack["subject"]
    sent = await _raw(database_url, ack["id"])
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"] == message_id_of(raw)
    text = sent.get_body(preferencelist=("plain",)).get_content()
    assert "Jó napot" not in text  # an auto-reply never echoes the message (spam relay)
    assert any(word in text for word in ("kérés", "Köszönjük", "megkaptuk"))


async def test_machine_mail_and_a_mailbox_without_acknowledgements_get_none(client):
    box = await make_mailbox(client)
    auto = await deliver(
        client,
        box["id"],
        message(sender="ooo@example.org", headers={"Auto-Submitted": "auto-replied"}),
    )
    assert auto["outcome"] == "new_ticket"
    assert await _outbox(client, auto["ticket_id"]) == []
    quiet = await make_mailbox(client, address="quiet@help.example.com", acknowledge=False)
    result = await deliver(client, quiet["id"], message(sender="person@example.org"))
    assert await _outbox(client, result["ticket_id"]) == []


async def test_a_public_reply_is_mailed_to_requester_and_ccs_a_private_note_never(
    client, database_url
):
    box = await make_mailbox(client)
    opening = message(sender="boss@example.org", cc="deputy@example.org")
    ticket_id = (await deliver(client, box["id"], opening))["ticket_id"]
    agent = await make_user(client, role="agent")
    agent_headers = bearer(await make_token(client, agent["id"]))
    secret = "INTERNAL-ONLY: the customer is on probation"
    note = await client.post(
        f"/v1/tickets/{ticket_id}/comments",
        json={"body": secret, "public": False},
        headers=agent_headers,
    )
    assert note.status_code == 201
    reply = await client.post(
        f"/v1/tickets/{ticket_id}/comments",
        json={"body": "We are sending a technician.", "public": True},
        headers=agent_headers,
    )
    assert reply.status_code == 201
    mails = await _outbox(client, ticket_id)
    replies = [m for m in mails if m["kind"] == "public_reply"]
    assert sorted(r for m in replies for r in m["recipients"]) == [
        "boss@example.org",
        "deputy@example.org",
    ]
    assert all(m["comment_id"] == reply.json()["id"] for m in replies)
    for mail in mails:
        sent = await _raw(database_url, mail["id"])
        texts = [p.get_content() for p in sent.walk() if p.get_content_maintype() == "text"]
        assert texts
        assert all(secret not in text for text in texts)
    threaded = await _raw(database_url, replies[0]["id"])
    assert threaded["In-Reply-To"] == message_id_of(opening)
    assert threaded["Auto-Submitted"] is None
    body = threaded.get_body(preferencelist=("plain",)).get_content()
    assert "We are sending a technician." in body


async def test_a_customers_answer_by_mail_threads_to_our_reply(client):
    box = await make_mailbox(client)
    ticket_id = (await deliver(client, box["id"], message(sender="ana@example.ro")))["ticket_id"]
    await client.post(
        f"/v1/tickets/{ticket_id}/comments", json={"body": "Try again?"}, headers=ADMIN
    )
    [ours] = [m for m in await _outbox(client, ticket_id) if m["kind"] == "public_reply"]
    answer = message(
        sender="ana@example.ro",
        subject="Re: whatever the client wrote",
        body="Yes, it works now.",
        in_reply_to=f"<{ours['message_id']}>",
    )
    joined = await deliver(client, box["id"], answer)
    assert (joined["ticket_id"], joined["thread_match"]) == (ticket_id, "in-reply-to")


async def test_status_notices_follow_the_status_and_a_reply_is_not_told_twice(client):
    _, _, ticket_id = await _mail_ticket(client)
    statuses = (await client.get("/v1/ticket-statuses", headers=ADMIN)).json()["data"]
    solved = next(s for s in statuses if s["category"] == "solved" and s["is_default"])
    pending = next(s for s in statuses if s["category"] == "pending" and s["is_default"])
    assert solved["notify_requester"] is True
    await client.patch(f"/v1/tickets/{ticket_id}", json={"status_id": pending["id"]}, headers=ADMIN)
    assert [m["kind"] for m in await _outbox(client, ticket_id)] == ["acknowledgement"]
    solving = await client.patch(
        f"/v1/tickets/{ticket_id}", json={"status_id": solved["id"]}, headers=ADMIN
    )
    assert solving.status_code == 200, solving.text
    kinds = [m["kind"] for m in await _outbox(client, ticket_id)]
    assert kinds == ["acknowledgement", "status_changed"]


async def test_assignment_and_new_ticket_notices_follow_staff_preferences(client):
    group = (await client.post("/v1/groups", json={"name": "Printers"}, headers=ADMIN)).json()
    eager = await make_user(client, role="agent")
    quiet = await make_user(client, role="agent")
    for agent in (eager, quiet):
        added = await client.put(f"/v1/groups/{group['id']}/members/{agent['id']}", headers=ADMIN)
        assert added.status_code in (200, 201, 204), added.text
    opted_in = await client.patch(
        f"/v1/users/{eager['id']}",
        json={"notification_settings": {"ticket_created": True}},
        headers=ADMIN,
    )
    assert opted_in.json()["notification_settings"] == {"ticket_created": True}
    await client.patch(
        f"/v1/users/{quiet['id']}",
        json={"notification_settings": {"ticket_assigned": False}},
        headers=ADMIN,
    )
    _, _, ticket_id = await _mail_ticket(client, group_id=group["id"])
    created = [m for m in await _outbox(client, ticket_id) if m["kind"] == "ticket_created"]
    assert [m["recipients"] for m in created] == [[eager["email"]]]
    await client.patch(f"/v1/tickets/{ticket_id}", json={"assignee_id": quiet["id"]}, headers=ADMIN)
    await client.patch(f"/v1/tickets/{ticket_id}", json={"assignee_id": eager["id"]}, headers=ADMIN)
    assigned = [m for m in await _outbox(client, ticket_id) if m["kind"] == "ticket_assigned"]
    assert [m["recipients"] for m in assigned] == [[eager["email"]]]
    eager_headers = bearer(await make_token(client, eager["id"]))
    await client.patch(
        f"/v1/tickets/{ticket_id}", json={"assignee_id": None}, headers=eager_headers
    )
    await client.patch(
        f"/v1/tickets/{ticket_id}", json={"assignee_id": eager["id"]}, headers=eager_headers
    )
    again = [m for m in await _outbox(client, ticket_id) if m["kind"] == "ticket_assigned"]
    assert len(again) == 1  # taking a ticket yourself tells you nothing


async def test_bad_notification_choices_are_refused_and_change_nothing(client):
    agent = await make_user(client, role="agent")
    for body in (
        {"notification_settings": {"ticket_assigned": "yes"}},
        {"notification_settings": {"everything": True}},
        {"notification_settings": None},
    ):
        response = await client.patch(f"/v1/users/{agent['id']}", json=body, headers=ADMIN)
        assert response.status_code == 422, (body, response.text)
    unchanged = await client.get(f"/v1/users/{agent['id']}", headers=ADMIN)
    assert unchanged.json()["notification_settings"] == {}
    statuses = (await client.get("/v1/ticket-statuses", headers=ADMIN)).json()["data"]
    refused = await client.patch(
        f"/v1/ticket-statuses/{statuses[0]['id']}", json={"notify_requester": "yes"}, headers=ADMIN
    )
    assert refused.status_code == 422


async def test_the_acknowledgement_tells_the_slas_due_times_in_the_customers_language(
    client, clock, database_url
):
    calendar = await make_calendar(client, name="24/7", always_open=True, hours=[])
    await make_policy(
        client, calendar["id"], target("first_reply", 60), target("resolution", 2 * 24 * 60)
    )
    _, _, ticket_id = await _mail_ticket(client)

    [ack] = await _outbox(client, ticket_id)
    text = (await _raw(database_url, ack["id"])).get_body(preferencelist=("plain",)).get_content()
    first = format_datetime(clock.now + timedelta(hours=1), locale="hu", time_zone=None)
    resolved = format_datetime(clock.now + timedelta(days=2), locale="hu", time_zone=None)
    assert f"Válaszunkra legkésőbb ekkor számíthat: {first}" in " ".join(text.split())
    assert resolved in " ".join(text.split())


async def test_the_acknowledgement_is_a_trigger_admins_can_turn_off(client):
    triggers = (await client.get("/v1/triggers", headers=ADMIN)).json()["data"]
    [default] = [t for t in triggers if t["title"] == "Acknowledge new requests"]
    off = await client.patch(f"/v1/triggers/{default['id']}", json={"active": False}, headers=ADMIN)
    assert off.status_code == 200, off.text

    _, _, ticket_id = await _mail_ticket(client)

    assert await _outbox(client, ticket_id) == []


async def test_a_customer_opening_a_request_through_the_api_is_acknowledged(client):
    await make_mailbox(client)
    customer = await make_user(client)
    headers = bearer(await make_token(client, customer["id"]))
    created = await client.post(
        "/v1/tickets", json={"subject": "Hi", "comment": {"body": "Help"}}, headers=headers
    )
    assert created.status_code == 201, created.text
    [ack] = await _outbox(client, created.json()["id"])
    assert ack["kind"] == "acknowledgement"
    assert ack["recipients"] == [customer["email"]]
    agent_made = await client.post(
        "/v1/tickets",
        json={"subject": "Hi", "requester_id": customer["id"], "comment": {"body": "Help"}},
        headers=ADMIN,
    )
    assert await _outbox(client, agent_made.json()["id"]) == []

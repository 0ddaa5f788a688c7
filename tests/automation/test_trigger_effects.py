"""What triggers do besides setting fields: notes and replies from templates, CCs, e-mail
notices and webhook calls, each written in the change's transaction; private notes stay
private."""

import json
from typing import Any

from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, make_user, make_user_with_token
from tests.mail.factories import fetch_rows
from tests.mail.mailboxes import make_mailbox
from tests.tickets.factories import audits, make_group, make_ticket

ON_CREATE = {"all": [{"field": "update_type", "operator": "is", "value": "created"}]}


async def create(client, actions: list[dict[str, Any]], conditions=ON_CREATE) -> dict[str, Any]:
    body = {"title": "Effects", "conditions": conditions, "actions": actions}
    response = await client.post("/v1/triggers", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def outbox(client, ticket_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/tickets/{ticket_id}/deliveries", headers=ADMIN)
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["data"]))


async def comments(client, ticket_id: int, headers=ADMIN) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/tickets/{ticket_id}/comments", headers=headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def test_a_reply_and_a_note_from_templates_and_the_reply_is_mailed(client):
    await make_mailbox(client)
    customer, customer_headers = await make_user_with_token(client)
    await create(
        client,
        [
            {"action": "public_reply",
             "body": "Hello {{ recipient.name }}, we got request #{{ ticket.id }}."},
            {"action": "add_note", "body": "Auto-triaged: {{ ticket.subject }}"},
        ],
    )  # fmt: skip

    ticket = await make_ticket(client, requester_id=customer["id"], subject="Broken mouse")

    by_trigger = [c for c in await comments(client, ticket["id"]) if c["via"] == "trigger"]
    assert [(c["public"], c["body"]) for c in by_trigger] == [
        (True, f"Hello {customer['name']}, we got request #{ticket['id']}."),
        (False, "Auto-triaged: Broken mouse"),
    ]
    assert all(c["author_id"] is None for c in by_trigger)
    [mail] = [m for m in await outbox(client, ticket["id"]) if m["kind"] == "public_reply"]
    assert mail["recipients"] == [customer["email"]]
    assert mail["comment_id"] == by_trigger[0]["id"]
    seen = [c["body"] for c in await comments(client, ticket["id"], customer_headers)]
    assert "Auto-triaged: Broken mouse" not in seen
    assert by_trigger[0]["body"] in seen


async def test_notify_each_kind_of_recipient_in_their_own_view(client):
    await make_mailbox(client)
    agent = await make_user(client, role="agent")
    lead = await make_user(client, role="agent")
    group = await make_group(client, "Tier 1", agent["id"], lead["id"])
    customer = await make_user(client)
    notice = {"subject": "About #{{ ticket.id }}", "body": "Status: {{ ticket.status }}"}
    await create(
        client,
        [
            {"action": "notify", "recipient": "requester", **notice},
            {"action": "notify", "recipient": "assignee", **notice},
            {"action": "notify", "recipient": "group", **notice},
            {"action": "notify", "recipient": "user", "user_id": lead["id"], **notice},
        ],
    )

    ticket = await make_ticket(
        client, requester_id=customer["id"], group_id=group["id"], assignee_id=agent["id"]
    )

    notices = [m for m in await outbox(client, ticket["id"]) if m["kind"] == "rule_notice"]
    recipients = sorted(r for m in notices for r in m["recipients"])
    assert recipients == sorted(
        [customer["email"], agent["email"], agent["email"], lead["email"], lead["email"]]
    )
    assert all(f"About #{ticket['id']}" in m["subject"] for m in notices)


async def test_notify_without_a_mailbox_marks_the_rule_and_the_change_commits(client):
    trigger = await create(
        client,
        [
            {"action": "notify", "recipient": "requester", "subject": "Hi", "body": "Hi"},
            {"action": "add_tags", "tags": ["seen"]},
        ],
    )

    ticket = await make_ticket(client)

    assert ticket["tags"] == ["seen"]
    read = (await client.get(f"/v1/triggers/{trigger['id']}", headers=ADMIN)).json()
    assert read["last_error"] == "notify: no active mailbox to send from"


async def test_add_cc_copies_once_and_audits_it(client):
    colleague = await make_user(client)
    await create(client, [{"action": "add_cc", "user_id": colleague["id"]}])

    ticket = await make_ticket(client)

    ccs = (await client.get(f"/v1/tickets/{ticket['id']}/ccs", headers=ADMIN)).json()["data"]
    assert [c["user_id"] for c in ccs] == [colleague["id"]]
    notes = [c for a in await audits(client, ticket["id"]) for c in a["changes"]]
    assert {"field": "cc", "from": None,
            "to": {"user_id": colleague["id"], "kind": "cc"}} in notes  # fmt: skip


async def test_call_webhook_queues_a_signed_delivery_with_the_rendered_payload(database_url):
    # A receiver on loopback, which production refuses (tests/webhooks/test_ssrf.py).
    async with app_client(make_settings(database_url, webhook_allow_private=True)) as client:
        await _call_webhook(client, database_url)


async def _call_webhook(client, database_url):
    hook = await client.post("/v1/webhooks", json={"url": "http://127.0.0.1:1/x"}, headers=ADMIN)
    assert hook.status_code == 201, hook.text
    await create(
        client,
        [{"action": "call_webhook", "webhook_id": hook.json()["id"],
          "payload": '{"ticket": {{ ticket.id }}, "subject": {{ ticket.subject|tojson }}}'}],
    )  # fmt: skip

    ticket = await make_ticket(client, subject='Quote " me')

    rows = await fetch_rows(
        database_url,
        "SELECT event_type, convert_from(payload, 'UTF8') AS body FROM webhook_deliveries "
        "WHERE webhook_id = $1 AND event_type = 'trigger.webhook'",
        hook.json()["id"],
    )
    assert len(rows) == 1
    envelope = json.loads(rows[0]["body"])
    assert envelope["type"] == "trigger.webhook"
    assert envelope["data"] == {
        "ticket_id": ticket["id"],
        "payload": {"ticket": ticket["id"], "subject": 'Quote " me'},
    }

"""Triggers on SLA events: a warning reminds the assignee, a breach escalates. The worker's
SLA job runs at fixed times and the triggers fire in its transaction."""

from datetime import timedelta

import pytest

from helpdesk_api.assembly import connect
from helpdesk_api.sla.tasks import process_due_sla
from tests.factories import ADMIN, make_user
from tests.mail.mailboxes import make_mailbox
from tests.sla.helpers import MONDAY_10_ROME, make_calendar, make_policy, target
from tests.tickets.factories import audits, get_ticket, make_ticket

T0 = MONDAY_10_ROME


@pytest.fixture
async def sessionmaker(database_url):
    engine, sessionmaker = connect(database_url, pool_size=2)
    yield sessionmaker
    await engine.dispose()


async def trigger(client, event: str, actions: list[dict]) -> int:
    body = {
        "title": f"On {event}",
        "conditions": {"all": [{"field": "sla_event", "operator": "is", "value": event}]},
        "actions": actions,
    }
    response = await client.post("/v1/triggers", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_warning_reminds_the_assignee_and_a_breach_escalates(client, clock, sessionmaker):
    await make_mailbox(client)
    calendar = await make_calendar(client, name="24/7", always_open=True, hours=[])
    await make_policy(client, calendar["id"], target("first_reply", 60))
    agent = await make_user(client, role="agent")
    reminder = await trigger(
        client,
        "first_reply_time.warning",
        [{"action": "notify", "recipient": "assignee",
          "subject": "Reply soon to #{{ ticket.id }}", "body": "The first reply is due."}],
    )  # fmt: skip
    escalation = await trigger(
        client,
        "first_reply_time.breached",
        [{"action": "set_priority", "priority": "urgent"},
         {"action": "add_tags", "tags": ["escalated"]}],
    )  # fmt: skip
    ticket = await make_ticket(client, assignee_id=agent["id"])

    await process_due_sla(sessionmaker, T0 + timedelta(minutes=45))
    deliveries = await client.get(f"/v1/tickets/{ticket['id']}/deliveries", headers=ADMIN)
    notices = [d for d in deliveries.json()["data"] if d["kind"] == "rule_notice"]
    assert [n["recipients"] for n in notices] == [[agent["email"]]]
    assert (await get_ticket(client, ticket["id"]))["priority"] == "normal"

    await process_due_sla(sessionmaker, T0 + timedelta(minutes=61))
    escalated = await get_ticket(client, ticket["id"])
    assert escalated["priority"] == "urgent"
    assert escalated["tags"] == ["escalated"]
    fired = [
        c["to"]["id"]
        for a in await audits(client, ticket["id"])
        for c in a["changes"]
        if c["field"] == "trigger"
    ]
    assert fired == [reminder, escalation]

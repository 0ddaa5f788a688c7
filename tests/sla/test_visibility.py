"""SLA internals are staff-only: customers get 403 everywhere, even on their own ticket."""

import pytest

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.sla.helpers import make_calendar, make_policy, target
from tests.tickets.factories import make_group, make_ticket


@pytest.fixture
async def world(client):
    calendar = await make_calendar(client)
    policy = await make_policy(client, calendar["id"], target("first_reply", 60))
    _, headers = await make_user_with_token(client)
    ticket = await make_ticket(client, headers)
    return {"calendar": calendar, "policy": policy, "ticket": ticket, "customer": headers}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/business-calendars",
        "/v1/business-calendars/{calendar}",
        "/v1/sla-policies",
        "/v1/sla-policies/{policy}",
        "/v1/tickets/{ticket}/sla",
    ],
)
async def test_customer_cannot_read_sla_internals(client, world, path):
    url = path.format(
        calendar=world["calendar"]["id"], policy=world["policy"]["id"], ticket=world["ticket"]["id"]
    )
    assert_problem(await client.get(url, headers=world["customer"]), 403)


async def test_customer_cannot_write_sla_internals(client, world):
    headers = world["customer"]
    calendar_id, policy_id = world["calendar"]["id"], world["policy"]["id"]
    for response in (
        await client.post("/v1/business-calendars", json={"name": "x"}, headers=headers),
        await client.patch(f"/v1/business-calendars/{calendar_id}", json={}, headers=headers),
        await client.delete(f"/v1/business-calendars/{calendar_id}", headers=headers),
        await client.post("/v1/sla-policies", json={"name": "x"}, headers=headers),
        await client.patch(f"/v1/sla-policies/{policy_id}", json={}, headers=headers),
        await client.delete(f"/v1/sla-policies/{policy_id}", headers=headers),
    ):
        assert_problem(response, 403)


async def test_customer_sees_expected_first_reply_but_no_sla_detail(client, world):
    ticket = (
        await client.get(f"/v1/tickets/{world['ticket']['id']}", headers=world["customer"])
    ).json()
    assert ticket["expected_first_reply_at"] is not None
    assert "sla" not in " ".join(ticket)


async def test_light_agent_reads_a_tickets_sla(client, world):
    _, light = await make_user_with_token(client, role="light_agent")
    response = await client.get(f"/v1/tickets/{world['ticket']['id']}/sla", headers=light)
    assert response.status_code == 200, response.text


async def test_agent_limited_to_groups_gets_404_for_another_groups_ticket_sla(client, world):
    _, headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    group = await make_group(client, "Elsewhere")
    ticket = await make_ticket(client, group_id=group["id"])
    assert_problem(await client.get(f"/v1/tickets/{ticket['id']}/sla", headers=headers), 404)
    assert (await client.get(f"/v1/tickets/{ticket['id']}/sla", headers=ADMIN)).status_code == 200

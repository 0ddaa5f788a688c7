"""Customers never learn routing's facts: skills, availability, required skills, account
managers, routing notes or assignment failures, by any path they can reach."""

from helpdesk_api.core.event_types import EventType
from helpdesk_api.event_catalogue.catalogue import CATALOGUE
from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.routing.helpers import failures, make_agent, routed_group
from tests.tickets.factories import make_ticket

SECRET_SKILL = "product:zanzibar-9000"
# An organisation keeps its `account_manager_id` key for customers, always null (as `notes`).
INTERNAL = ("required_skills", "skills", "availability", SECRET_SKILL)


async def test_customers_see_no_routing_facts_anywhere(client, database_url):
    manager, _ = await make_agent(client, skills=(SECRET_SKILL,))
    organization = await client.post(
        "/v1/organizations",
        json={"name": "Zanzibar", "shared_tickets": True, "account_manager_id": manager},
        headers=ADMIN,
    )
    organization_id = organization.json()["id"]
    customer, headers = await make_user_with_token(client, organization_id=organization_id)
    group = await routed_group(client, "round_robin", manager)
    routed = await make_ticket(
        client, requester_id=customer["id"], group_id=group, required_skills=[SECRET_SKILL]
    )
    assert routed["assignee_id"] == manager
    unrouted = await make_ticket(
        client, requester_id=customer["id"], group_id=group, required_skills=["tier:9"]
    )
    assert [f["reason"] for f in await failures(database_url, unrouted["id"])] == ["no_skill_match"]

    responses = [
        await client.get(f"/v1/tickets/{routed['id']}", headers=headers),
        await client.get(f"/v1/tickets/{unrouted['id']}", headers=headers),
        await client.get("/v1/tickets", headers=headers),
        await client.get("/v1/tickets?q=fire", headers=headers),
        await client.get(f"/v1/tickets/{routed['id']}/comments", headers=headers),
        await client.get("/v1/me", headers=headers),
        await client.get(f"/v1/users/{customer['id']}", headers=headers),
        await client.get(f"/v1/organizations/{organization_id}", headers=headers),
    ]
    for response in responses:
        assert response.status_code == 200, (response.request.url, response.text)
        for internal in INTERNAL:
            assert internal not in response.text, (response.request.url, internal)
        assert "assignment.failed" not in response.text
        assert "routing" not in response.text
    assert responses[7].json()["account_manager_id"] is None

    audits = f"/v1/tickets/{routed['id']}/audits"
    for path in (f"/v1/users/{manager}", f"/v1/groups/{group}", audits, "/v1/events"):
        response = await client.get(path, headers=headers)
        assert response.status_code in (403, 404), path
        assert_problem(response, response.status_code)
        assert SECRET_SKILL not in response.text


def test_assignment_failures_never_reach_customers_streams():
    """Customers' stream carries public events in their catalogue shape only."""
    assert CATALOGUE[EventType.assignment_failed].customer_payload is None


async def test_staff_see_the_routing_facts(client):
    agent, _ = await make_agent(client, skills=("tier:2",))
    _, light = await make_user_with_token(client, role="light_agent")
    ticket = await make_ticket(client, required_skills=["tier:2"])
    for headers in (light, ADMIN):
        user = (await client.get(f"/v1/users/{agent}", headers=headers)).json()
        assert user["skills"] == ["tier:2"]
        assert user["availability"] == "online"
        seen = (await client.get(f"/v1/tickets/{ticket['id']}", headers=headers)).json()
        assert seen["required_skills"] == ["tier:2"]

"""The routing fields of groups, users, organisations and tickets: who may set them, what
is refused (422/403 problem+json, with nothing written), and how they read back."""

import pytest

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.routing.helpers import events_of, make_agent, routed_group
from tests.tickets.factories import get_ticket, make_ticket

DEFAULT_ROUTING = {
    "mode": "manual",
    "respect_availability": True,
    "max_open_per_agent": None,
    "match_language": False,
}


async def test_a_new_group_routes_manually(client):
    response = await client.post("/v1/groups", json={"name": "Plain"}, headers=ADMIN)
    assert response.status_code == 201, response.text
    assert response.json()["routing"] == DEFAULT_ROUTING


async def test_patching_routing_changes_only_the_fields_sent(client, database_url):
    group = await routed_group(client, "round_robin", max_open_per_agent=5)
    response = await client.patch(
        f"/v1/groups/{group}",
        json={"routing": {"mode": "least_busy", "max_open_per_agent": None}},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    assert response.json()["routing"] == {**DEFAULT_ROUTING, "mode": "least_busy"}
    [event] = await events_of(database_url, "group.updated")
    assert event["data"]["changes"] == [
        {"field": "routing.mode", "from": "round_robin", "to": "least_busy"},
        {"field": "routing.max_open_per_agent", "from": 5, "to": None},
    ]
    again = await client.get(f"/v1/groups/{group}", headers=ADMIN)
    assert again.json()["routing"]["mode"] == "least_busy"


@pytest.mark.parametrize(
    ("routing", "loc"),
    [
        ({"mode": "random"}, ["body", "routing", "mode"]),
        ({"max_open_per_agent": -1}, ["body", "routing", "max_open_per_agent"]),
        ({"max_open_per_agent": 0}, ["body", "routing", "max_open_per_agent"]),
        ({"max_open_per_agent": "3"}, ["body", "routing", "max_open_per_agent"]),
        ({"respect_availability": "yes"}, ["body", "routing", "respect_availability"]),
        ({"mode": None}, ["body", "routing", "mode"]),
        ({"skills": ["x"]}, ["body", "routing", "skills"]),
    ],
)
async def test_bad_routing_is_refused_and_nothing_changes(client, routing, loc):
    group = await routed_group(client, "round_robin")
    body = {"name": "Renamed", "routing": routing}
    problem = assert_problem(
        await client.patch(f"/v1/groups/{group}", json=body, headers=ADMIN), 422
    )
    assert [e["loc"] for e in problem["errors"]] == [loc]
    after = (await client.get(f"/v1/groups/{group}", headers=ADMIN)).json()
    assert after["name"] != "Renamed"
    assert after["routing"]["mode"] == "round_robin"
    assert_problem(await client.post("/v1/groups", json=body, headers=ADMIN), 422)


async def test_only_admins_change_routing(client):
    group = await routed_group(client, "manual")
    _, agent = await make_agent(client)
    response = await client.patch(
        f"/v1/groups/{group}", json={"routing": {"mode": "round_robin"}}, headers=agent
    )
    assert_problem(response, 403)
    assert (await client.get(f"/v1/groups/{group}", headers=agent)).json()["routing"][
        "mode"
    ] == "manual"


async def test_skills_are_stored_lower_case_sorted_and_once(client):
    user = await make_user(client, role="agent", skills=["Tier:2", "lang:IT", " tier:2 "])
    assert user["skills"] == ["lang:it", "tier:2"]
    response = await client.patch(
        f"/v1/users/{user['id']}", json={"skills": ["product:acme-router"]}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    assert response.json()["skills"] == ["product:acme-router"]


@pytest.mark.parametrize("skill", ["", "lang:", "lang:pt-br", "two words", "a::b", "tier:2:3"])
async def test_malformed_skills_are_refused(client, skill):
    user = await make_user(client, role="agent")
    response = await client.patch(
        f"/v1/users/{user['id']}", json={"skills": ["ok", skill]}, headers=ADMIN
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "skills", 1]
    assert (await client.get(f"/v1/users/{user['id']}", headers=ADMIN)).json()["skills"] == []


@pytest.mark.parametrize("role", ["customer", "light_agent"])
async def test_only_assignable_users_have_skills(client, role):
    response = await client.post(
        "/v1/users", json={"name": "Sam", "role": role, "skills": ["tier:1"]}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "skills"]
    user = await make_user(client, role=role)
    for body in ({"skills": ["tier:1"]}, {"availability": "online"}):
        response = await client.patch(f"/v1/users/{user['id']}", json=body, headers=ADMIN)
        assert_problem(response, 422)


async def test_an_agent_made_a_customer_loses_skills_and_goes_offline(client):
    agent, _ = await make_agent(client, skills=("tier:2",))
    response = await client.patch(f"/v1/users/{agent}", json={"role": "customer"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json()["skills"] == []
    assert response.json()["availability"] == "offline"


async def test_agents_cannot_change_users_skills(client):
    other, _ = await make_agent(client)
    _, agent = await make_agent(client)
    response = await client.patch(f"/v1/users/{other}", json={"skills": ["x"]}, headers=agent)
    assert_problem(response, 403)


async def test_an_agent_sets_their_availability(client, database_url):
    agent, headers = await make_agent(client, availability=None)
    assert (await client.get(f"/v1/users/{agent}", headers=ADMIN)).json()["availability"] == (
        "offline"
    )
    response = await client.put(
        "/v1/me/availability", json={"availability": "away"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["availability"] == "away"
    assert response.json()["availability_changed_at"] is not None
    user = (await client.get(f"/v1/users/{agent}", headers=ADMIN)).json()
    assert user["availability"] == "away"
    assert (await events_of(database_url, "user.updated"))[-1]["data"] == {
        "user_id": agent,
        "changes": [{"field": "availability", "from": "offline", "to": "away"}],
    }


async def test_an_admin_sets_an_agents_availability(client):
    agent, _ = await make_agent(client)
    response = await client.patch(
        f"/v1/users/{agent}", json={"availability": "offline"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    assert response.json()["availability"] == "offline"


@pytest.mark.parametrize("role", ["customer", "light_agent"])
async def test_only_agents_and_admins_set_availability(client, role):
    user, headers = await make_user_with_token(client, role=role)
    response = await client.put(
        "/v1/me/availability", json={"availability": "online"}, headers=headers
    )
    assert_problem(response, 403)
    assert (await client.get(f"/v1/users/{user['id']}", headers=ADMIN)).json()[
        "availability"
    ] == "offline"


@pytest.mark.parametrize("body", [{"availability": "busy"}, {}, {"availability": None}])
async def test_a_bad_availability_is_refused(client, body):
    _, headers = await make_agent(client, availability=None)
    assert_problem(await client.put("/v1/me/availability", json=body, headers=headers), 422)


async def test_an_account_manager_must_be_an_active_agent(client):
    customer = await make_user(client)
    light = await make_user(client, role="light_agent")
    agent, _ = await make_agent(client)
    for bad in (customer["id"], light["id"], 999_999):
        response = await client.post(
            "/v1/organizations",
            json={"name": f"Org {bad}", "account_manager_id": bad},
            headers=ADMIN,
        )
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["loc"] == ["body", "account_manager_id"]
    created = await client.post(
        "/v1/organizations", json={"name": "Acme", "account_manager_id": agent}, headers=ADMIN
    )
    assert created.status_code == 201, created.text
    organization = created.json()["id"]
    response = await client.patch(
        f"/v1/organizations/{organization}",
        json={"account_manager_id": customer["id"]},
        headers=ADMIN,
    )
    assert_problem(response, 422)
    again = await client.get(f"/v1/organizations/{organization}", headers=ADMIN)
    assert again.json()["account_manager_id"] == agent


async def test_staff_set_required_skills_on_create_and_update(client):
    ticket = await make_ticket(client, required_skills=["Tier:2"])
    assert ticket["required_skills"] == ["tier:2"]
    _, agent = await make_agent(client)
    response = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"required_skills": []}, headers=agent
    )
    assert response.status_code == 200, response.text
    assert response.json()["required_skills"] == []


async def test_bad_required_skills_are_refused(client):
    response = await client.post(
        "/v1/tickets",
        json={"subject": "x", "comment": {"body": "y"}, "required_skills": ["no spaces"]},
        headers=ADMIN,
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "required_skills", 0]


async def test_customers_cannot_set_required_skills(client):
    customer, headers = await make_user_with_token(client)
    body = {"subject": "Help", "comment": {"body": "Please"}, "required_skills": ["tier:3"]}
    assert_problem(await client.post("/v1/tickets", json=body, headers=headers), 403)
    ticket = await make_ticket(client, requester_id=customer["id"])
    response = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"required_skills": ["tier:3"]}, headers=headers
    )
    assert_problem(response, 403)
    assert (await get_ticket(client, ticket["id"]))["required_skills"] == []

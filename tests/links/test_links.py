"""Links between tickets, seen from both ends."""

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.merging.factories import link
from tests.tickets.factories import audits, make_group, make_ticket


async def _links(client, ticket_id, headers=ADMIN):
    response = await client.get(f"/v1/tickets/{ticket_id}/links", headers=headers)
    return response


async def test_a_link_is_listed_from_both_ends_with_its_direction(client):
    a, b = await make_ticket(client), await make_ticket(client)
    created = await link(client, a["id"], b["id"], "duplicate")
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/v1/tickets/{a['id']}/links/{created.json()['id']}"
    from_a = (await _links(client, a["id"])).json()["data"]
    from_b = (await _links(client, b["id"])).json()["data"]
    assert [(x["ticket_id"], x["kind"], x["direction"]) for x in from_a] == [
        (b["id"], "duplicate", "outbound")
    ]
    assert [(x["ticket_id"], x["kind"], x["direction"]) for x in from_b] == [
        (a["id"], "duplicate", "inbound")
    ]
    assert (await audits(client, b["id"]))[-1]["changes"][0]["field"] == "link"


async def test_incident_links_point_from_the_incident_to_the_problem(client):
    problem = await make_ticket(client, type="problem")
    incident = await make_ticket(client, type="incident")
    created = await link(client, problem["id"], incident["id"], "incident")
    assert created.status_code == 201, created.text
    assert created.json()["direction"] == "inbound"
    from_incident = (await _links(client, incident["id"])).json()["data"]
    assert [(x["ticket_id"], x["direction"]) for x in from_incident] == [
        (problem["id"], "outbound")
    ]


async def test_incident_link_needs_a_problem_and_an_incident(client):
    problem = await make_ticket(client, type="problem")
    question = await make_ticket(client, type="question")
    body = assert_problem(await link(client, problem["id"], question["id"], "incident"), 422)
    assert body["errors"][0]["loc"] == ["body", "kind"]


async def test_an_incident_belongs_to_one_problem(client):
    first = await make_ticket(client, type="problem")
    second = await make_ticket(client, type="problem")
    incident = await make_ticket(client, type="incident")
    assert (await link(client, incident["id"], first["id"], "incident")).status_code == 201
    assert_problem(await link(client, second["id"], incident["id"], "incident"), 409)


async def test_two_tickets_are_linked_once_whichever_way(client):
    a, b = await make_ticket(client), await make_ticket(client)
    assert (await link(client, a["id"], b["id"])).status_code == 201
    assert_problem(await link(client, b["id"], a["id"], "duplicate"), 409)
    assert_problem(await link(client, a["id"], b["id"]), 409)


async def test_self_unknown_and_invisible_other_are_422(client):
    agent, headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    group = await make_group(client, "Tier 2", agent["id"])
    mine = await make_ticket(client, group_id=group["id"])
    hidden = await make_ticket(client)
    for other in (mine["id"], 999_999, hidden["id"]):
        body = assert_problem(await link(client, mine["id"], other, headers=headers), 422)
        assert body["errors"][0]["loc"] == ["body", "ticket_id"]
    assert_problem(await link(client, hidden["id"], mine["id"], headers=headers), 404)


async def test_links_to_tickets_the_caller_cannot_see_are_not_listed(client):
    agent, headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    group = await make_group(client, "Tier 3", agent["id"])
    mine = await make_ticket(client, group_id=group["id"])
    hidden = await make_ticket(client)
    await link(client, mine["id"], hidden["id"])
    assert (await _links(client, mine["id"], headers)).json()["data"] == []
    assert len((await _links(client, mine["id"])).json()["data"]) == 1


async def test_delete_link_from_either_end(client):
    a, b, c = await make_ticket(client), await make_ticket(client), await make_ticket(client)
    link_id = (await link(client, a["id"], b["id"])).json()["id"]
    assert_problem(
        await client.delete(f"/v1/tickets/{c['id']}/links/{link_id}", headers=ADMIN), 404
    )
    deleted = await client.delete(f"/v1/tickets/{b['id']}/links/{link_id}", headers=ADMIN)
    assert deleted.status_code == 204
    assert (await _links(client, a["id"])).json()["data"] == []
    again = await client.delete(f"/v1/tickets/{b['id']}/links/{link_id}", headers=ADMIN)
    assert_problem(again, 404)


async def test_roles_on_links(client):
    customer, customer_headers = await make_user_with_token(client)
    _, light = await make_user_with_token(client, role="light_agent")
    a = await make_ticket(client, requester_id=customer["id"])
    b = await make_ticket(client, requester_id=customer["id"])
    assert_problem(await _links(client, a["id"], customer_headers), 403)
    assert_problem(await link(client, a["id"], b["id"], headers=customer_headers), 403)
    assert_problem(await link(client, a["id"], b["id"], headers=light), 403)
    link_id = (await link(client, a["id"], b["id"])).json()["id"]
    assert (await _links(client, a["id"], light)).status_code == 200
    for headers in (customer_headers, light):
        response = await client.delete(f"/v1/tickets/{a['id']}/links/{link_id}", headers=headers)
        assert_problem(response, 403)
    reply = await client.post(
        f"/v1/tickets/{a['id']}/links/reply", json={"body": "hi"}, headers=customer_headers
    )
    assert_problem(reply, 403)

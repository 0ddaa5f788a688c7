from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.tickets.factories import make_ticket


async def _group(client, name="Billing"):
    response = await client.post("/v1/groups", json={"name": name}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _join(client, group_id, user_id):
    response = await client.put(f"/v1/groups/{group_id}/members/{user_id}", headers=ADMIN)
    assert response.status_code == 204, response.text


async def _patch(client, ticket_id, body, headers=ADMIN):
    return await client.patch(f"/v1/tickets/{ticket_id}", json=body, headers=headers)


async def test_assign_to_an_active_agent(client):
    agent = await make_user(client, role="agent")
    ticket = await make_ticket(client)
    response = await _patch(client, ticket["id"], {"assignee_id": agent["id"]})
    assert response.json()["assignee_id"] == agent["id"]


async def test_only_active_agents_can_be_assignees(client):
    customer = await make_user(client)
    light = await make_user(client, role="light_agent")
    gone = await make_user(client, role="agent")
    await client.delete(f"/v1/users/{gone['id']}", headers=ADMIN)
    ticket = await make_ticket(client)
    for user in (customer, light, gone):
        problem = assert_problem(
            await _patch(client, ticket["id"], {"assignee_id": user["id"]}), 422
        )
        assert problem["errors"][0]["loc"] == ["body", "assignee_id"]
    assert (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).json()[
        "assignee_id"
    ] is None


async def test_self_assign_and_unassign(client):
    agent, headers = await make_user_with_token(client, role="agent")
    ticket = await make_ticket(client)
    mine = await _patch(client, ticket["id"], {"assignee_id": "me"}, headers)
    assert mine.json()["assignee_id"] == agent["id"]
    listed = await client.get("/v1/tickets?assignee_id=me", headers=headers)
    assert [t["id"] for t in listed.json()["data"]] == [ticket["id"]]
    none = await _patch(client, ticket["id"], {"assignee_id": None}, headers)
    assert none.json()["assignee_id"] is None


async def test_assignee_must_belong_to_the_tickets_group(client):
    group = await _group(client)
    member = await make_user(client, role="agent")
    outsider = await make_user(client, role="agent")
    await _join(client, group, member["id"])
    ticket = await make_ticket(client, group_id=group)
    problem = assert_problem(
        await _patch(client, ticket["id"], {"assignee_id": outsider["id"]}), 422
    )
    assert problem["errors"][0]["loc"] == ["body", "assignee_id"]
    ok = await _patch(client, ticket["id"], {"assignee_id": member["id"]})
    assert ok.json()["assignee_id"] == member["id"]


async def test_moving_to_a_group_the_assignee_is_not_in_is_refused(client):
    first, second = await _group(client, "L1"), await _group(client, "L2")
    agent = await make_user(client, role="agent")
    await _join(client, first, agent["id"])
    ticket = await make_ticket(client, group_id=first, assignee_id=agent["id"])
    assert_problem(await _patch(client, ticket["id"], {"group_id": second}), 422)
    # Changing both at once is how a ticket is handed over.
    other = await make_user(client, role="agent")
    await _join(client, second, other["id"])
    moved = await _patch(client, ticket["id"], {"group_id": second, "assignee_id": other["id"]})
    assert moved.status_code == 200
    assert (moved.json()["group_id"], moved.json()["assignee_id"]) == (second, other["id"])


async def test_create_with_group_and_assignee_outside_it_is_refused(client):
    group = await _group(client)
    agent = await make_user(client, role="agent")
    body = {"subject": "s", "comment": {"body": "b"}, "group_id": group, "assignee_id": agent["id"]}
    assert_problem(await client.post("/v1/tickets", json=body, headers=ADMIN), 422)


async def test_inactive_group_cannot_receive_tickets(client):
    group = await _group(client)
    await client.delete(f"/v1/groups/{group}", headers=ADMIN)
    ticket = await make_ticket(client)
    problem = assert_problem(await _patch(client, ticket["id"], {"group_id": group}), 422)
    assert problem["errors"][0]["loc"] == ["body", "group_id"]

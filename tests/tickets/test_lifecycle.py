from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.tickets.factories import comment, make_ticket, status_id


async def _ticket(client, ticket_id):
    return (await client.get(f"/v1/tickets/{ticket_id}", headers=ADMIN)).json()


async def _customer_ticket(client):
    _, headers = await make_user_with_token(client)
    ticket = await make_ticket(client, headers=headers)
    return ticket, headers


async def test_new_ticket_is_new_and_agent_reply_opens_it(client):
    ticket, _ = await _customer_ticket(client)
    assert ticket["status"]["category"] == "new"
    assert (await _ticket(client, ticket["id"]))["first_agent_reply_at"] is None
    response = await comment(client, ticket["id"], ADMIN, body="On it.")
    assert response.status_code == 201
    after = await _ticket(client, ticket["id"])
    assert after["status"]["category"] == "open"
    assert after["first_agent_reply_at"] == response.json()["created_at"]
    assert after["status_changed_at"] == response.json()["created_at"]


async def test_private_note_does_not_open_a_new_ticket(client):
    ticket, _ = await _customer_ticket(client)
    await comment(client, ticket["id"], ADMIN, body="Looking", public=False)
    after = await _ticket(client, ticket["id"])
    assert after["status"]["category"] == "new"
    assert after["first_agent_reply_at"] is None


async def test_first_comment_of_an_agent_opened_ticket_is_not_a_reply(client):
    ticket = await make_ticket(client)
    assert ticket["status"]["category"] == "new"
    assert ticket["first_agent_reply_at"] is None


async def test_customer_reply_reopens_pending_and_solved(client):
    for category in ("pending", "solved"):
        ticket, headers = await _customer_ticket(client)
        await client.patch(
            f"/v1/tickets/{ticket['id']}",
            json={"status_id": await status_id(client, category)},
            headers=ADMIN,
        )
        await comment(client, ticket["id"], headers, body="Still broken")
        assert (await _ticket(client, ticket["id"]))["status"]["category"] == "open"


async def test_customer_reply_leaves_on_hold_alone(client):
    ticket, headers = await _customer_ticket(client)
    on_hold = await status_id(client, "on_hold")
    await client.patch(f"/v1/tickets/{ticket['id']}", json={"status_id": on_hold}, headers=ADMIN)
    await comment(client, ticket["id"], headers, body="Any news?")
    assert (await _ticket(client, ticket["id"]))["status"]["category"] == "on_hold"


async def test_solved_at_is_set_on_solve_and_cleared_on_reopen(client):
    ticket, headers = await _customer_ticket(client)
    solved = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"status_id": await status_id(client, "solved")},
        headers=ADMIN,
    )
    assert solved.json()["solved_at"] is not None
    await comment(client, ticket["id"], headers, body="Not fixed")
    assert (await _ticket(client, ticket["id"]))["solved_at"] is None


async def test_closed_is_final(client):
    ticket, headers = await _customer_ticket(client)
    closed = await status_id(client, "closed")
    await client.patch(f"/v1/tickets/{ticket['id']}", json={"status_id": closed}, headers=ADMIN)
    assert_problem(
        await client.patch(f"/v1/tickets/{ticket['id']}", json={"subject": "x"}, headers=ADMIN),
        409,
    )
    assert_problem(await comment(client, ticket["id"], headers, body="hello?"), 409)
    assert_problem(await comment(client, ticket["id"], ADMIN, body="hello?"), 409)
    assert (await _ticket(client, ticket["id"]))["comment_count"] == 1


async def test_customer_may_mark_own_ticket_solved_but_nothing_else(client):
    ticket, headers = await _customer_ticket(client)
    pending = await status_id(client, "pending")
    refused = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"status_id": pending}, headers=headers
    )
    assert_problem(refused, 403)
    for body in ({"subject": "mine"}, {"priority": "urgent"}, {"assignee_id": "me"}):
        assert_problem(
            await client.patch(f"/v1/tickets/{ticket['id']}", json=body, headers=headers), 403
        )
    solved = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"status_id": await status_id(client, "solved")},
        headers=headers,
    )
    assert solved.status_code == 200
    assert solved.json()["status"]["category"] == "solved"


async def test_customer_cannot_write_a_private_note(client):
    ticket, headers = await _customer_ticket(client)
    assert_problem(await comment(client, ticket["id"], headers, body="x", public=False), 403)


async def test_light_agent_writes_notes_only(client):
    ticket, _ = await _customer_ticket(client)
    _, light = await make_user_with_token(client, role="light_agent")
    assert_problem(await comment(client, ticket["id"], light, body="x", public=True), 403)
    note = await comment(client, ticket["id"], light, body="internal")
    assert note.status_code == 201
    assert note.json()["public"] is False
    assert_problem(
        await client.patch(f"/v1/tickets/{ticket['id']}", json={"priority": "high"}, headers=light),
        403,
    )


async def test_reply_and_status_change_in_one_update(client):
    ticket, _ = await _customer_ticket(client)
    pending = await status_id(client, "pending")
    response = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"status_id": pending, "comment": {"body": "Can you send a photo?"}},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    # The explicit status wins over the reply's automatic new → open.
    assert updated["status"]["category"] == "pending"
    assert updated["comment_count"] == 2
    audits = (await client.get(f"/v1/tickets/{ticket['id']}/audits", headers=ADMIN)).json()
    last = audits["data"][-1]
    assert last["comment_id"] is not None
    assert {c["field"] for c in last["changes"]} >= {"comment", "status"}


async def test_inactive_status_cannot_be_used(client):
    created = await client.post(
        "/v1/ticket-statuses",
        json={"category": "pending", "agent_label": "Waiting on vendor"},
        headers=ADMIN,
    )
    new_status = created.json()
    await client.patch(
        f"/v1/ticket-statuses/{new_status['id']}", json={"is_active": False}, headers=ADMIN
    )
    ticket = await make_ticket(client)
    response = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"status_id": new_status["id"]}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "status_id"]


async def test_custom_status_labels_differ_for_agents_and_customers(client):
    created = await client.post(
        "/v1/ticket-statuses",
        json={
            "category": "on_hold",
            "agent_label": "Waiting on vendor bug",
            "customer_label": "In progress",
        },
        headers=ADMIN,
    )
    custom = created.json()["id"]
    ticket, headers = await _customer_ticket(client)
    staff_view = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"status_id": custom}, headers=ADMIN
    )
    assert staff_view.json()["status"]["label"] == "Waiting on vendor bug"
    customer_view = await client.get(f"/v1/tickets/{ticket['id']}", headers=headers)
    assert customer_view.json()["status"] == {
        "id": custom,
        "category": "on_hold",
        "label": "In progress",
    }
    assert "vendor" not in (await client.get("/v1/tickets", headers=headers)).text

"""CCs and followers: a CC'd customer sees the ticket's public side as its requester does."""

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.tickets.factories import audits, comment, make_ticket

NOTE = "internal-only-cc-note"


async def _cc(client, ticket_id, user_id, headers=ADMIN):
    return await client.put(f"/v1/tickets/{ticket_id}/ccs/{user_id}", headers=headers)


async def _ccs(client, ticket_id, headers=ADMIN):
    return await client.get(f"/v1/tickets/{ticket_id}/ccs", headers=headers)


async def test_customer_cc_sees_public_side_only(client):
    ticket = await make_ticket(client)
    await comment(client, ticket["id"], ADMIN, body=NOTE, public=False)
    cc, headers = await make_user_with_token(client)
    assert_problem(await client.get(f"/v1/tickets/{ticket['id']}", headers=headers), 404)
    assert (await _cc(client, ticket["id"], cc["id"])).status_code == 204
    for path in (f"/v1/tickets/{ticket['id']}", f"/v1/tickets/{ticket['id']}/comments",
                 "/v1/tickets", "/v1/tickets?q=internal"):  # fmt: skip
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert NOTE not in response.text
    as_cc = (await client.get(f"/v1/tickets/{ticket['id']}", headers=headers)).json()
    assert "tags" not in as_cc
    assert "assignee_id" not in as_cc
    listed = (await client.get("/v1/tickets", headers=headers)).json()["data"]
    assert [t["id"] for t in listed] == [ticket["id"]]


async def test_cc_can_reply_publicly_but_not_read_notes(client):
    ticket = await make_ticket(client)
    cc, headers = await make_user_with_token(client)
    await _cc(client, ticket["id"], cc["id"])
    assert (await comment(client, ticket["id"], headers, body="me too")).status_code == 201
    assert_problem(await comment(client, ticket["id"], headers, body="x", public=False), 403)


async def test_kind_follows_the_role_and_list_shows_both(client):
    ticket = await make_ticket(client)
    customer = await make_user(client)
    agent = await make_user(client, role="agent")
    await _cc(client, ticket["id"], customer["id"])
    await _cc(client, ticket["id"], agent["id"])
    data = (await _ccs(client, ticket["id"])).json()["data"]
    assert {(x["user_id"], x["kind"]) for x in data} == {
        (customer["id"], "cc"),
        (agent["id"], "follower"),
    }


async def test_adding_twice_is_a_no_op_and_removing_is_audited(client):
    ticket = await make_ticket(client)
    customer, headers = await make_user_with_token(client)
    await _cc(client, ticket["id"], customer["id"])
    await _cc(client, ticket["id"], customer["id"])
    assert len((await _ccs(client, ticket["id"])).json()["data"]) == 1
    removed = await client.delete(f"/v1/tickets/{ticket['id']}/ccs/{customer['id']}", headers=ADMIN)
    assert removed.status_code == 204
    assert_problem(await client.get(f"/v1/tickets/{ticket['id']}", headers=headers), 404)
    again = await client.delete(f"/v1/tickets/{ticket['id']}/ccs/{customer['id']}", headers=ADMIN)
    assert_problem(again, 404)
    cc_audits = [a for a in await audits(client, ticket["id"]) if a["changes"][0]["field"] == "cc"]
    assert len(cc_audits) == 2


async def test_unknown_user_or_the_requester_is_422(client):
    customer = await make_user(client)
    ticket = await make_ticket(client, requester_id=customer["id"])
    body = assert_problem(await _cc(client, ticket["id"], 999_999), 422)
    assert body["errors"][0]["loc"] == ["path", "user_id"]
    assert_problem(await _cc(client, ticket["id"], customer["id"]), 422)
    assert_problem(await _cc(client, 999_999, customer["id"]), 404)


async def test_roles_on_ccs(client):
    customer, customer_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, requester_id=customer["id"])
    other = await make_user(client)
    _, light = await make_user_with_token(client, role="light_agent")
    assert_problem(await _ccs(client, ticket["id"], customer_headers), 403)
    assert_problem(await _cc(client, ticket["id"], other["id"], customer_headers), 403)
    assert (await _ccs(client, ticket["id"], light)).status_code == 200
    assert_problem(await _cc(client, ticket["id"], other["id"], light), 403)

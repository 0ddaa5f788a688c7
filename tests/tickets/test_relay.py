"""A relay (a mail or chat gateway) writes its customers' messages on their behalf: they count
as the customer's, never as an agent's reply."""

import pytest

from tests.factories import ADMIN, assert_problem, bearer, make_user, make_user_with_token
from tests.sla.helpers import clock, make_calendar, make_policy, metric, target
from tests.tickets.factories import audits, comment, make_ticket, status_id, update_ticket

__all__ = ["clock"]  # the fixture


async def _relay_token(client, **extra):
    relay = await make_user(client, role="agent")
    response = await client.post(
        f"/v1/users/{relay['id']}/tokens",
        json={"name": "mail gateway", "acts_for_requesters": True, **extra},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    assert response.json()["acts_for_requesters"] is True
    return relay, bearer(response.json()["token"])


@pytest.fixture
async def policy(client):
    calendar = await make_calendar(client, name="24/7", always_open=True, hours=[])
    return await make_policy(client, calendar["id"], target("first_reply", 60))


async def test_a_relayed_follow_up_is_the_customers_and_fulfils_no_first_reply(
    client, clock, policy
):
    relay, relay_headers = await _relay_token(client)
    customer = await make_user(client)
    created = await client.post(
        "/v1/tickets",
        json={
            "subject": "Mail in",
            "requester_id": customer["id"],
            "comment": {"body": "My printer is on fire.", "author_id": customer["id"]},
        },
        headers=relay_headers,
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    follow_up = await comment(
        client, ticket["id"], relay_headers, body="Still burning.", author_id=customer["id"]
    )
    assert follow_up.status_code == 201, follow_up.text
    assert follow_up.json()["author_id"] == customer["id"]
    assert follow_up.json()["public"] is True
    listed = await client.get(f"/v1/tickets/{ticket['id']}/comments", headers=ADMIN)
    assert [c["author_id"] for c in listed.json()["data"]] == [customer["id"]] * 2
    assert (await metric(client, ticket["id"], "first_reply"))["status"] == "active"
    current = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).json()
    assert current["status"]["category"] == "new"
    trail = await audits(client, ticket["id"])
    assert trail[-1]["actor_id"] == customer["id"]
    assert trail[-1]["changes"][0]["to"]["relayed_by"] == relay["id"]
    # The same relay answering as itself is an agent's reply.
    answer = await comment(client, ticket["id"], relay_headers, body="On our way.")
    assert answer.status_code == 201
    assert (await metric(client, ticket["id"], "first_reply"))["status"] == "achieved"


async def test_a_relayed_message_reopens_a_waiting_ticket(client):
    _, relay_headers = await _relay_token(client)
    customer = await make_user(client)
    ticket = await make_ticket(client, requester_id=customer["id"])
    await update_ticket(client, ticket["id"], status_id=await status_id(client, "pending"))
    reply = await comment(
        client, ticket["id"], relay_headers, body="Any news?", author_id=customer["id"]
    )
    assert reply.status_code == 201, reply.text
    current = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).json()
    assert current["status"]["category"] == "open"


async def test_a_customer_copied_on_the_ticket_may_be_relayed_for(client):
    _, relay_headers = await _relay_token(client)
    copied = await make_user(client)
    ticket = await make_ticket(client)
    assert (
        await client.put(f"/v1/tickets/{ticket['id']}/ccs/{copied['id']}", headers=ADMIN)
    ).status_code == 204
    reply = await comment(
        client, ticket["id"], relay_headers, body="Me too", author_id=copied["id"]
    )
    assert reply.status_code == 201, reply.text


async def test_relaying_is_refused_without_the_right_or_for_the_wrong_person(client):
    _, relay_headers = await _relay_token(client)
    _, agent_headers = await make_user_with_token(client, role="agent")
    customer, stranger, colleague = [await make_user(client) for _ in range(3)]
    staff = await make_user(client, role="agent")
    ticket = await make_ticket(client, requester_id=customer["id"])
    url = f"/v1/tickets/{ticket['id']}/comments"
    refusals = [
        (await client.post(url, json={"body": "x", "author_id": customer["id"]},
                           headers=agent_headers), 403, None),
        (await client.post(url, json={"body": "x", "author_id": stranger["id"]},
                           headers=relay_headers), 422, ["body", "author_id"]),
        (await client.post(url, json={"body": "x", "author_id": staff["id"]},
                           headers=relay_headers), 422, ["body", "author_id"]),
        (await client.post(url, json={"body": "x", "author_id": customer["id"], "public": False},
                           headers=relay_headers), 422, ["body", "public"]),
        (await client.patch(f"/v1/tickets/{ticket['id']}",
                            json={"comment": {"body": "x", "author_id": customer["id"]}},
                            headers=relay_headers), 422, ["body", "comment", "author_id"]),
        (await client.post("/v1/tickets", json={
            "subject": "s", "requester_id": customer["id"],
            "comment": {"body": "x", "author_id": colleague["id"]}}, headers=relay_headers),
         422, ["body", "comment", "author_id"]),
    ]  # fmt: skip
    for response, status, loc in refusals:
        problem = assert_problem(response, status)
        if loc:
            assert problem["errors"][0]["loc"] == loc, problem
    listed = await client.get(url, headers=ADMIN)
    assert len(listed.json()["data"]) == 1
    assert len((await client.get("/v1/tickets", headers=ADMIN)).json()["data"]) == 1


async def test_only_admins_grant_the_relay_right_and_only_to_staff(client):
    agent, agent_headers = await make_user_with_token(client, role="agent")
    own = await client.post(
        f"/v1/users/{agent['id']}/tokens", json={"acts_for_requesters": True},
        headers=agent_headers,
    )  # fmt: skip
    assert_problem(own, 403)
    customer = await make_user(client)
    for_customer = await client.post(
        f"/v1/users/{customer['id']}/tokens", json={"acts_for_requesters": True}, headers=ADMIN
    )
    assert_problem(for_customer, 422)
    relay, _ = await _relay_token(client)
    tokens = await client.get(f"/v1/users/{relay['id']}/tokens", headers=ADMIN)
    assert [t["acts_for_requesters"] for t in tokens.json()["data"]] == [True]
    plain = await client.post(f"/v1/users/{agent['id']}/tokens", json={}, headers=ADMIN)
    assert plain.json()["acts_for_requesters"] is False

"""Finding duplicates on a small, realistic corpus: the obvious duplicate comes first."""

import pytest

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.tickets.factories import make_group, make_ticket, status_id, update_ticket


async def _ticket(client, requester, subject, body, **extra):
    return await make_ticket(
        client, subject=subject, requester_id=requester["id"], comment={"body": body}, **extra
    )


async def _similar(client, ticket_id, headers=ADMIN, **params):
    return await client.get(f"/v1/tickets/{ticket_id}/similar", params=params, headers=headers)


@pytest.fixture
async def corpus(client):
    alice, bob, carol, dave = [await make_user(client) for _ in range(4)]
    t = {
        "new": await _ticket(
            client, alice, "Cannot log in to the customer portal after password reset",
            "Since I reset my password this morning the portal login page says invalid "
            "credentials.",
        ),
        "duplicate": await _ticket(
            client, alice, "Can't login to customer portal after resetting my password",
            "I reset my password and now the portal keeps saying invalid credentials.",
            channel="email",
        ),
        "same_requester": await _ticket(
            client, alice, "Question about invoice 2041", "Why was VAT charged twice?"
        ),
        "related": await _ticket(
            client, bob, "Portal login broken", "The login page shows invalid credentials."
        ),
        "printer": await _ticket(
            client, carol, "Printer on the third floor is jammed", "Paper stuck in tray 2."
        ),
        "laptop": await _ticket(client, dave, "Request a new laptop", "Mine is five years old."),
        "closed": await _ticket(
            client, bob, "Cannot log in to the customer portal after password reset",
            "Same as everyone.",
        ),
    }  # fmt: skip
    await update_ticket(client, t["closed"]["id"], status_id=await status_id(client, "closed"))
    return t


async def test_the_obvious_duplicate_ranks_first(client, corpus):
    response = await _similar(client, corpus["new"]["id"])
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    ids = [d["ticket"]["id"] for d in data]
    assert ids[0] == corpus["duplicate"]["id"]
    assert set(data[0]["reasons"]) == {"same_requester", "similar_subject", "similar_text"}
    assert data[0]["ticket"]["tags"] == []  # the staff representation
    scores = [d["score"] for d in data]
    assert scores == sorted(scores, reverse=True)
    assert corpus["related"]["id"] in ids
    assert corpus["same_requester"]["id"] in ids
    assert corpus["new"]["id"] not in ids
    assert corpus["closed"]["id"] not in ids
    assert corpus["printer"]["id"] not in ids
    assert corpus["laptop"]["id"] not in ids


async def test_a_duplicate_from_another_customer_ranks_first(client, corpus):
    erin = await make_user(client)
    jammed = await _ticket(
        client, erin, "Third floor printer jammed again", "Paper is stuck in tray 2 again."
    )
    data = (await _similar(client, jammed["id"])).json()["data"]
    assert [d["ticket"]["id"] for d in data] == [corpus["printer"]["id"]]
    assert set(data[0]["reasons"]) == {"similar_subject", "similar_text"}


async def test_limit_caps_the_list(client, corpus):
    data = (await _similar(client, corpus["new"]["id"], limit=1)).json()["data"]
    assert [d["ticket"]["id"] for d in data] == [corpus["duplicate"]["id"]]
    assert_problem(await _similar(client, corpus["new"]["id"], limit=51), 422)


async def test_only_tickets_the_caller_may_see_are_suggested(client, corpus):
    agent, headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    group = await make_group(client, "Portal", agent["id"])
    await update_ticket(client, corpus["new"]["id"], group_id=group["id"])
    await update_ticket(client, corpus["related"]["id"], group_id=group["id"])
    data = (await _similar(client, corpus["new"]["id"], headers)).json()["data"]
    assert [d["ticket"]["id"] for d in data] == [corpus["related"]["id"]]
    assert_problem(await _similar(client, corpus["duplicate"]["id"], headers), 404)


async def test_customers_cannot_ask_light_agents_can(client):
    customer, customer_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, requester_id=customer["id"])
    assert_problem(await _similar(client, ticket["id"], customer_headers), 403)
    _, light = await make_user_with_token(client, role="light_agent")
    assert (await _similar(client, ticket["id"], light)).status_code == 200

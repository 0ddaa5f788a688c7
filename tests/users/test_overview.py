"""The customer overview: every part in one call, capped, linked, within what the caller
may see, in a fixed number of queries."""

from tests.factories import ADMIN, assert_problem, bearer, make_token, make_user
from tests.satisfaction.helpers import set_status
from tests.tickets.factories import make_group, make_ticket


async def test_the_overview_gathers_a_customers_history_within_the_callers_view(client):
    organization = await client.post("/v1/organizations", json={"name": "Acme Kft."}, headers=ADMIN)
    assert organization.status_code == 201, organization.text
    customer = await make_user(
        client, name="Vera Varga", organization_id=organization.json()["id"], tags=["vip"]
    )
    customer_headers = bearer(await make_token(client, customer["id"]))
    agent = await make_user(client, role="agent", ticket_access="groups")
    agent_headers = bearer(await make_token(client, agent["id"]))
    group = await make_group(client, "Billing", agent["id"])
    ids = []
    for n in range(12):
        ticket = await make_ticket(client, customer_headers, subject=f"Request {n}")
        ids.append(ticket["id"])
    for ticket_id in ids[:3]:
        await client.patch(
            f"/v1/tickets/{ticket_id}", json={"group_id": group["id"]}, headers=ADMIN
        )
    await set_status(client, ids[0], "solved")
    rated = await client.put(
        f"/v1/tickets/{ids[0]}/satisfaction", json={"score": "good"}, headers=customer_headers
    )
    assert rated.status_code == 200, rated.text
    await set_status(client, ids[1], "solved")
    await client.put(
        f"/v1/tickets/{ids[1]}/satisfaction", json={"score": "bad"}, headers=customer_headers
    )

    full = await client.get(f"/v1/users/{customer['id']}/overview", headers=ADMIN)
    assert full.status_code == 200, full.text
    page = full.json()
    assert page["user"]["name"] == "Vera Varga"
    assert page["user"]["tags"] == ["vip"]
    assert page["organization"]["name"] == "Acme Kft."
    assert page["tickets"]["counts"]["new"] == 10
    assert page["tickets"]["counts"]["solved"] == 2
    assert len(page["tickets"]["open"]) == 10
    assert len(page["tickets"]["recent"]) == 10
    assert page["tickets"]["recent"][0]["id"] == ids[-1]
    assert page["tickets"]["more"] == f"/v1/tickets?requester_id={customer['id']}"
    summary = page["satisfaction"]
    assert (summary["rated"], summary["good"], summary["good_share"]) == (2, 1, 0.5)
    assert {r["ticket_id"] for r in summary["recent"]} == {ids[0], ids[1]}
    more = await client.get(summary["more"], headers=ADMIN)
    assert len(more.json()["data"]) == 2
    assert page["first_seen_at"]
    assert page["last_contact_at"]

    # A group-restricted agent sees only the group's tickets in every part.
    narrow = (
        await client.get(f"/v1/users/{customer['id']}/overview", headers=agent_headers)
    ).json()
    assert sum(narrow["tickets"]["counts"].values()) == 3
    assert {t["id"] for t in narrow["tickets"]["recent"]} == set(ids[:3])
    assert narrow["satisfaction"]["rated"] == 2

    assert_problem(
        await client.get(f"/v1/users/{customer['id']}/overview", headers=customer_headers), 403
    )
    assert_problem(await client.get(f"/v1/users/{agent['id']}/overview", headers=ADMIN), 404)
    assert_problem(await client.get("/v1/users/424242/overview", headers=ADMIN), 404)

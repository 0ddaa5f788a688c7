"""Forgetting a customer keeps their tickets and nothing that identifies them."""

import asyncpg

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.mail.mailboxes import deliver, make_mailbox
from tests.mail.messages import message


async def test_anonymising_a_customer_keeps_tickets_and_forgets_the_person(client, database_url):
    box = await make_mailbox(client)
    raw = message(sender="Greta Gold <greta@example.de>", subject="Invoice question")
    ticket_id = (await deliver(client, box["id"], raw))["ticket_id"]
    ticket = (await client.get(f"/v1/tickets/{ticket_id}", headers=ADMIN)).json()
    user_id = ticket["requester_id"]
    await client.patch(
        f"/v1/users/{user_id}",
        json={"notes": "Prefers calls", "tags": ["vip"], "external_id": "crm-42"},
        headers=ADMIN,
    )
    token_holder = await client.post(f"/v1/users/{user_id}/tokens", json={}, headers=ADMIN)
    customer_headers = {"Authorization": f"Bearer {token_holder.json()['token']}"}

    _, agent = await make_user_with_token(client, role="agent")
    assert_problem(await client.post(f"/v1/users/{user_id}/anonymize", headers=agent), 403)
    done = await client.post(f"/v1/users/{user_id}/anonymize", headers=ADMIN)
    assert done.status_code == 200, done.text
    user = done.json()
    assert user["name"] == "Anonymous customer"
    assert (user["email"], user["identities"], user["external_id"]) == (None, [], None)
    assert (user["notes"], user["tags"], user["is_active"]) == (None, [], False)
    assert (await client.get("/v1/me", headers=customer_headers)).status_code == 401
    # The ticket stays, with its comment; the mail headers that named her do not.
    kept = (await client.get(f"/v1/tickets/{ticket_id}", headers=ADMIN)).json()
    assert kept["requester_id"] == user_id
    connection = await asyncpg.connect(database_url)
    try:
        sources = await connection.fetch(
            "SELECT source FROM ticket_comments WHERE ticket_id = $1", ticket_id
        )
    finally:
        await connection.close()
    assert sources
    assert all(row["source"] is None for row in sources)
    assert "greta" not in str(kept).lower()
    assert (await client.get("/v1/users?q=greta", headers=ADMIN)).json()["data"] == []
    again = await client.post(f"/v1/users/{user_id}/anonymize", headers=ADMIN)
    assert again.status_code == 200
    audits = (await client.get(f"/v1/users/{user_id}/audits", headers=ADMIN)).json()["data"]
    anonymised = [
        a for a in audits if {"field": "anonymized", "from": False, "to": True} in a["changes"]
    ]
    assert len(anonymised) == 1
    assert anonymised[0]["via"] == "api"

    staff = await make_user(client, role="agent")
    assert_problem(await client.post(f"/v1/users/{staff['id']}/anonymize", headers=ADMIN), 409)
    assert (await client.get(f"/v1/users/{staff['id']}", headers=ADMIN)).json()["name"] == staff[
        "name"
    ]
    assert_problem(await client.post("/v1/users/987654/anonymize", headers=ADMIN), 404)

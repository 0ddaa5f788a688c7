import asyncpg

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.tickets.factories import comment, make_ticket, status_id


async def _audits(client, ticket_id):
    return (await client.get(f"/v1/tickets/{ticket_id}/audits", headers=ADMIN)).json()["data"]


async def _events(database_url, ticket_id):
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT type, actor_id, is_public, data FROM events WHERE ticket_id = $1 ORDER BY id",
            ticket_id,
        )
    finally:
        await connection.close()
    return [(r["type"], r["actor_id"], r["is_public"]) for r in rows]


async def test_every_change_is_audited_with_actor_via_and_from_to(client):
    agent, headers = await make_user_with_token(client, role="agent")
    ticket = await make_ticket(client, headers=headers, priority="low", tags=["a"])
    await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"priority": "high", "assignee_id": "me", "add_tags": ["b"]},
        headers=headers,
    )
    audits = await _audits(client, ticket["id"])
    assert len(audits) == 2
    created, updated = audits
    assert created["actor_id"] == updated["actor_id"] == agent["id"]
    assert created["via"] == updated["via"] == "api"
    assert created["comment_id"] is not None
    changes = {c["field"]: (c["from"], c["to"]) for c in updated["changes"]}
    assert changes == {
        "priority": ("low", "high"),
        "assignee_id": (None, agent["id"]),
        "tags": (["a"], ["a", "b"]),
    }


async def test_a_patch_that_changes_nothing_writes_no_audit(client):
    ticket = await make_ticket(client, priority="high")
    same = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"priority": "high"}, headers=ADMIN
    )
    assert same.status_code == 200
    assert len(await _audits(client, ticket["id"])) == 1


async def test_a_refused_change_writes_no_audit_and_no_event(client, database_url):
    ticket = await make_ticket(client)
    before = await _events(database_url, ticket["id"])
    response = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"priority": "high", "group_id": 999}, headers=ADMIN
    )
    assert_problem(response, 422)
    assert len(await _audits(client, ticket["id"])) == 1
    assert await _events(database_url, ticket["id"]) == before
    assert (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).json()[
        "priority"
    ] == "normal"


async def test_changes_record_events_in_the_same_transaction(client, database_url):
    customer, customer_headers = await make_user_with_token(client)
    agent = await make_user(client, role="agent")
    ticket = await make_ticket(client, requester_id=customer["id"])
    await comment(client, ticket["id"], ADMIN, body="note", public=False)
    await comment(client, ticket["id"], ADMIN, body="reply")
    await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"assignee_id": agent["id"]}, headers=ADMIN
    )
    await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"status_id": await status_id(client, "pending")},
        headers=ADMIN,
    )
    await comment(client, ticket["id"], customer_headers, body="me again")
    events = await _events(database_url, ticket["id"])
    types = [e[0] for e in events]
    assert types == [
        "comment.created",  # the first comment
        "ticket.created",
        "comment.created",  # private note
        "comment.created",  # public reply …
        "ticket.updated",  # … which opened the ticket
        "ticket.status_changed",
        "ticket.updated",
        "ticket.assigned",
        "ticket.updated",
        "ticket.status_changed",
        "comment.created",  # the customer's reply …
        "ticket.updated",  # … which reopened it
        "ticket.status_changed",
    ]
    private_note = events[2]
    assert private_note[2] is False  # never in a customer's stream
    assert events[-3] == ("comment.created", customer["id"], True)


async def test_audits_page_by_cursor(client):
    ticket = await make_ticket(client)
    for n in range(4):
        await comment(client, ticket["id"], ADMIN, body=f"note {n}", public=False)
    first = (await client.get(f"/v1/tickets/{ticket['id']}/audits?limit=3", headers=ADMIN)).json()
    second = (
        await client.get(
            f"/v1/tickets/{ticket['id']}/audits?limit=3&cursor={first['next_cursor']}",
            headers=ADMIN,
        )
    ).json()
    ids = [a["id"] for a in first["data"] + second["data"]]
    assert len(ids) == len(set(ids)) == 5
    assert second["next_cursor"] is None

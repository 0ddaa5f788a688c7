"""POST /v1/imports/tickets: history from another help desk, as it was, and nothing reacts."""

import asyncpg

from tests.factories import ADMIN, assert_problem, bearer, make_token, make_user
from tests.sla.helpers import make_calendar, make_policy, target, ticket_sla
from tests.tickets.factories import audits

PATH = "/v1/imports/tickets"


def ticket(external_id: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "external_id": external_id,
        "subject": "Router keeps rebooting",
        "requester": {"email": "olga@example.org", "name": "Olga Old", "external_id": "zd-u-1"},
        "created_at": "2024-03-01T09:00:00Z",
        "status": "solved",
        "priority": "high",
        "tags": ["Legacy", "router"],
        "comments": [
            {
                "author": {"email": "olga@example.org"},
                "body": "My router reboots every hour.",
                "public": True,
                "created_at": "2024-03-01T09:00:00Z",
            },
            {
                "author": {"email": "ivan.agent@example.com"},
                "body": "Firmware bug again, see internal wiki xylophonic.",
                "public": False,
                "created_at": "2024-03-01T10:00:00Z",
            },
            {
                "author": {"email": "ivan.agent@example.com"},
                "body": "Please update the firmware.",
                "public": True,
                "created_at": "2024-03-01T11:00:00Z",
            },
        ],
    }
    body.update(overrides)
    return body


async def _counts(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url)
    try:
        row = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM tickets) AS tickets,"
            " (SELECT count(*) FROM ticket_comments) AS comments,"
            " (SELECT count(*) FROM users WHERE role = 'customer') AS customers,"
            " (SELECT count(*) FROM events WHERE type LIKE 'ticket.%'"
            "  OR type LIKE 'comment.%' OR type LIKE 'sla.%') AS ticket_events,"
            " (SELECT count(*) FROM outbound_emails) AS mails"
        )
    finally:
        await connection.close()
    return dict(row)


async def test_import_keeps_history_reacts_to_nothing_and_is_idempotent(client, database_url):
    agent = await make_user(client, role="agent", email="ivan.agent@example.com")
    # A trigger that would mail and tag every new ticket: imports must not fire it.
    trigger = await client.post(
        "/v1/triggers",
        json={
            "title": "Tag everything",
            "conditions": {"all": [{"field": "update_type", "operator": "is", "value": "created"}]},
            "actions": [{"action": "add_tags", "tags": ["triggered"]}],
        },
        headers=ADMIN,
    )
    assert trigger.status_code == 201, trigger.text
    # An SLA policy every ticket matches: imported tickets start no clock for the past.
    calendar = await make_calendar(client)
    await make_policy(client, calendar["id"], target("first_reply", 60, "high"))
    before = await _counts(database_url)
    response = await client.post(PATH, json={"tickets": [ticket("zd-1"), ticket("zd-2")]},
                                 headers=ADMIN)  # fmt: skip
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    assert [(r["external_id"], r["result"]) for r in rows] == [
        ("zd-1", "created"),
        ("zd-2", "created"),
    ]
    ticket_id = rows[0]["ticket_id"]
    imported = (await client.get(f"/v1/tickets/{ticket_id}", headers=ADMIN)).json()
    assert imported["created_at"].startswith("2024-03-01T09:00:00")
    assert (imported["status"]["category"] if isinstance(imported["status"], dict)
            else imported["status_category"]) == "solved"  # fmt: skip
    assert (imported["priority"], imported["external_id"]) == ("high", "zd-1")
    assert sorted(imported["tags"]) == ["legacy", "router"]
    assert "triggered" not in imported["tags"]
    comments = (await client.get(f"/v1/tickets/{ticket_id}/comments", headers=ADMIN)).json()
    assert [(c["public"], c["via"], c["author_id"] == agent["id"]) for c in comments["data"]] == [
        (True, "import", False),
        (False, "import", True),
        (True, "import", True),
    ]
    assert comments["data"][1]["created_at"].startswith("2024-03-01T10:00:00")
    # What the import knows, as audits at their times; reports fold them like any ticket's.
    opened, solved = await audits(client, ticket_id)
    assert (opened["via"], opened["created_at"][:19]) == ("import", "2024-03-01T09:00:00")
    assert [c["field"] for c in opened["changes"]] == ["imported", "status"]
    assert (solved["created_at"][:19], solved["changes"][0]["to"]["category"]) == (
        "2024-03-01T11:00:00", "solved",
    )  # fmt: skip
    metrics = (await client.get(f"/v1/tickets/{ticket_id}/metrics", headers=ADMIN)).json()
    assert metrics["first_reply_time"]["calendar_minutes"] == 120
    assert metrics["full_resolution_time"]["calendar_minutes"] == 120
    assert (metrics["replies"], metrics["one_touch"], metrics["reopens"]) == (1, True, 0)
    after = await _counts(database_url)
    assert after["tickets"] - before["tickets"] == 2
    assert after["customers"] - before["customers"] == 1  # Olga, once for both tickets
    assert (after["ticket_events"], after["mails"]) == (before["ticket_events"], before["mails"])
    assert (await ticket_sla(client, ticket_id))["metrics"] == []
    # A ticket made now, for contrast, does get the trigger's tag and the clock.
    live = (await client.post("/v1/tickets", json={"subject": "Now", "priority": "high",
            "comment": {"body": "Live"}}, headers=ADMIN)).json()  # fmt: skip
    assert "triggered" in live["tags"]
    assert (await ticket_sla(client, live["id"]))["metrics"] != []

    # Searchable; the private note only by staff. The customer sees the public history only.
    found = await client.get("/v1/tickets?q=xylophonic", headers=ADMIN)
    assert ticket_id in [t["id"] for t in found.json()["data"]]
    olga = (await client.get("/v1/users?external_id=zd-u-1", headers=ADMIN)).json()["data"][0]
    assert olga["email"] == "olga@example.org"
    customer = bearer(await make_token(client, olga["id"]))
    theirs = await client.get(f"/v1/tickets/{ticket_id}/comments", headers=customer)
    assert theirs.status_code == 200
    assert [c["body"] for c in theirs.json()["data"]] == [
        "My router reboots every hour.",
        "Please update the firmware.",
    ]
    assert (await client.get("/v1/tickets?q=xylophonic", headers=customer)).json()["data"] == []
    assert "xylophonic" not in (await client.get(f"/v1/tickets/{ticket_id}", headers=customer)).text

    # Sent again (a retry, or the next run of a sync): nothing changes.
    again = await client.post(PATH, json={"tickets": [ticket("zd-1", subject="Changed")]},
                              headers=ADMIN)  # fmt: skip
    assert again.status_code == 200, again.text
    assert again.json()["data"][0] == {**rows[0], "result": "existing"}
    assert (await client.get(f"/v1/tickets/{ticket_id}", headers=ADMIN)).json()["subject"] == (
        "Router keeps rebooting"
    )
    assert (await _counts(database_url))["tickets"] == after["tickets"] + 1  # the live one


async def test_a_bad_ticket_refuses_the_whole_batch(client, database_url):
    _, _agent = await make_user(client, role="agent"), None
    agent_headers = bearer(await make_token(client, _["id"]))
    good = ticket("ok-1")
    late = dict(ticket("bad-1"))
    comments = [dict(c) for c in late["comments"]]  # type: ignore[union-attr]
    comments[1]["created_at"] = "2023-01-01T00:00:00Z"
    before = await _counts(database_url)
    cases = [
        ({"tickets": [good, {**late, "comments": comments}]}, ("tickets", 1, "comments", 1)),
        ({"tickets": [good, ticket("ok-1")]}, ("tickets", 1, "external_id")),
        ({"tickets": [good, ticket("bad-2", created_at="2999-01-01T00:00:00Z")]}, None),
        ({"tickets": [good, ticket("bad-3", requester={"external_id": "nobody"})]}, None),
        ({"tickets": [good, ticket("bad-4", requester={})]}, None),
        ({"tickets": [good, ticket("bad-5", comments=[])]}, None),
        ({"tickets": [good, ticket("bad-6", created_at="2024-03-01T09:00:00")]}, None),
        ({"tickets": [good, ticket("old", created_at="0001-01-01T00:00:00+01:00")]}, None),
        ({"tickets": [good, ticket("bad-7", status="archived")]}, None),
        ({"tickets": [good, ticket("bad-8", tags=["a b c" * 100])]}, None),
        ({"tickets": [good, ticket("bad-9", assignee="x")]}, None),
        ({"tickets": []}, None),
        ({"tickets": [ticket(f"many-{n}") for n in range(101)]}, None),
    ]
    for body, where in cases:
        problem = assert_problem(await client.post(PATH, json=body, headers=ADMIN), 422)
        if where is not None:
            assert tuple(problem["errors"][0]["loc"][1 : 1 + len(where)]) == where, problem
    assert_problem(await client.post(PATH, json={"tickets": [good]}, headers=agent_headers), 403)
    assert_problem(await client.post(PATH, json={"tickets": [good]}), 401)
    assert await _counts(database_url) == before

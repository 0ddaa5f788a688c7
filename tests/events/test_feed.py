import asyncio

import asyncpg
import pytest

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.tickets.factories import comment, make_ticket


async def _drain(client, after=None, **params):
    seen = []
    while True:
        query = {"limit": 7, **params} | ({"after": after} if after else {})
        page = (await client.get("/v1/events", params=query, headers=ADMIN)).json()
        seen.extend(page["data"])
        if not page["data"]:
            return seen, page["next_cursor"]
        after = page["next_cursor"]


async def _drain_at_least(client, count, after=None):
    """The horizon is cluster-wide: a transaction elsewhere (another test database being
    cloned) may hold new events back for a moment. They arrive; they are never skipped."""
    seen = []
    for _ in range(100):
        batch, after = await _drain(client, after=after)
        seen.extend(batch)
        if len(seen) >= count:
            return seen, after
        await asyncio.sleep(0.05)
    return seen, after


async def test_feed_returns_every_event_once_in_commit_safe_order(client):
    await make_ticket(client)
    await make_ticket(client)
    events, cursor = await _drain_at_least(client, 4)
    assert [e["type"] for e in events] == ["comment.created", "ticket.created"] * 2
    again, same_cursor = await _drain(client, after=cursor)
    assert again == []
    assert same_cursor == cursor
    await make_ticket(client)
    newer, _ = await _drain_at_least(client, 2, after=cursor)
    assert [e["type"] for e in newer] == ["comment.created", "ticket.created"]


async def test_one_request_writes_its_events_in_the_order_they_happened(client):
    """Events wait in the session and are written together at commit; a new requester is
    created in a savepoint, whose event is written at once: the order still holds."""
    agent, _ = await make_user_with_token(client, role="agent")
    before, cursor = await _drain_at_least(client, 1)
    assert [e["type"] for e in before] == ["user.created"]
    ticket = await make_ticket(client, requester={"email": "new.customer@example.com"})
    opened = await client.get("/v1/ticket-statuses?category=open", headers=ADMIN)
    response = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={
            "status_id": opened.json()["data"][0]["id"],
            "assignee_id": agent["id"],
            "comment": {"body": "On it", "public": True},
        },
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text

    events, _ = await _drain_at_least(client, 7, after=cursor)
    assert [e["type"] for e in events] == [
        "user.created",
        "comment.created",
        "ticket.created",
        "comment.created",
        "ticket.updated",
        "ticket.status_changed",
        "ticket.assigned",
    ]


async def test_a_refused_request_leaves_no_event(client):
    _, cursor = await _drain(client)
    ticket = await make_ticket(client)
    refused = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"subject": "Changed", "status_id": 999_999},
        headers=ADMIN,
    )
    assert_problem(refused, 422)
    await make_ticket(client)  # a later commit: once its events show, the refused one's would

    events, _ = await _drain_at_least(client, 4, after=cursor)
    assert [e["type"] for e in events] == ["comment.created", "ticket.created"] * 2


@pytest.mark.unchecked_events  # writes a made-up event type by hand
async def test_an_event_that_commits_late_is_not_skipped(client, database_url):
    await make_ticket(client)
    _, cursor = await _drain_at_least(client, 2)
    slow = await asyncpg.connect(database_url)
    transaction = slow.transaction()
    await transaction.start()
    # This transaction takes its id first but commits last.
    await slow.execute("INSERT INTO events (type, data) VALUES ('test.slow', '{}'::jsonb)")
    await make_ticket(client)
    held_back, held_cursor = await _drain(client, after=cursor)
    assert held_back == []  # nothing past a transaction that is still in flight
    await transaction.commit()
    await slow.close()
    events, _ = await _drain_at_least(client, 3, after=held_cursor)
    assert [e["type"] for e in events] == ["test.slow", "comment.created", "ticket.created"]


async def test_concurrent_writers_and_a_polling_reader_see_each_event_exactly_once(
    client, database_url
):
    seen: list[int] = []
    cursor = None
    done = asyncio.Event()

    async def reader():
        nonlocal cursor
        while True:
            batch, cursor = await _drain(client, after=cursor)
            seen.extend(e["id"] for e in batch)
            if done.is_set() and not batch:
                return
            await asyncio.sleep(0.01)

    async def writer(n):
        for i in range(5):
            await make_ticket(client, subject=f"w{n}-{i}")

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(n) for n in range(4)))
    done.set()
    await reading
    connection = await asyncpg.connect(database_url)
    all_ids = [r["id"] for r in await connection.fetch("SELECT id FROM events ORDER BY id")]
    await connection.close()
    final, _ = await _drain_at_least(client, len(all_ids) - len(seen), after=cursor)
    seen.extend(e["id"] for e in final)
    assert len(seen) == len(set(seen))
    assert sorted(seen) == all_ids


async def test_type_filter_and_bad_cursor(client):
    ticket = await make_ticket(client)
    await comment(client, ticket["id"], ADMIN, body="hi")
    await _drain_at_least(client, 5)
    events, _ = await _drain(client, type="ticket.status_changed")
    assert [e["type"] for e in events] == ["ticket.status_changed"]
    body = assert_problem(await client.get("/v1/events?after=garbage!", headers=ADMIN), 422)
    assert body["errors"][0]["loc"] == ["query", "after"]


async def test_customers_cannot_read_the_feed(client):
    _, headers = await make_user_with_token(client)
    assert_problem(await client.get("/v1/events", headers=headers), 403)

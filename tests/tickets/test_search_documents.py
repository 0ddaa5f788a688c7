"""Full-text search through each ticket's search document: what keeps it right, and its limits.

Every write that touches words goes through a trigger (migration 0006), so these tests write
through the API and through SQL alike and read back with ``GET /v1/tickets?q=``.
"""

import random
import string

from helpdesk_api.tickets.listing import SEARCH_PROBE_LIMIT
from tests.factories import ADMIN, make_user_with_token
from tests.merging.factories import fetch, merge
from tests.tickets.factories import comment, listed_ids, make_ticket, update_ticket


async def test_words_may_come_from_the_subject_and_from_different_comments(client):
    ticket = await make_ticket(client, subject="Laptop battery", comment={"body": "Swollen"})
    reply = await comment(client, ticket["id"], ADMIN, body="Replacement shipped by courier")
    assert reply.status_code == 201, reply.text
    other = await make_ticket(client, subject="Laptop screen", comment={"body": "Flickers"})

    assert await listed_ids(client, {"q": "laptop courier"}) == [ticket["id"]]
    assert await listed_ids(client, {"q": "swollen courier"}) == [ticket["id"]]
    assert await listed_ids(client, {"q": "laptop", "sort": "created_at"}) == [
        ticket["id"],
        other["id"],
    ]


async def test_a_phrase_matches_words_next_to_each_other_within_a_comment(client):
    ticket = await make_ticket(client, subject="Mail", comment={"body": "The outbox is stuck"})
    await make_ticket(client, subject="Stuck", comment={"body": "Outbox grows; it is stuck"})

    assert await listed_ids(client, {"q": '"outbox is stuck"'}) == [ticket["id"]]


async def test_a_new_subject_replaces_the_old_words_and_keeps_the_comments(client):
    ticket = await make_ticket(client, subject="Printer offline", comment={"body": "Since noon"})
    await comment(client, ticket["id"], ADMIN, body="Checked the toner", public=False)

    await update_ticket(client, ticket["id"], subject="Scanner offline")

    assert await listed_ids(client, {"q": "printer"}) == []
    assert await listed_ids(client, {"q": "scanner"}) == [ticket["id"]]
    assert await listed_ids(client, {"q": "noon toner scanner"}) == [ticket["id"]]


async def test_after_a_new_subject_customers_still_miss_private_words(client):
    customer, customer_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, requester_id=customer["id"], subject="Invoice wrong")
    await comment(client, ticket["id"], ADMIN, body="Customer disputes everything", public=False)

    await update_ticket(client, ticket["id"], subject="Invoice corrected")

    assert await listed_ids(client, {"q": "disputes"}) == [ticket["id"]]
    assert await listed_ids(client, {"q": "disputes"}, customer_headers) == []
    assert await listed_ids(client, {"q": "corrected"}, customer_headers) == [ticket["id"]]


async def test_a_merge_carries_the_sources_words_to_the_target(client):
    customer, customer_headers = await make_user_with_token(client)
    target = await make_ticket(client, requester_id=customer["id"], subject="Wifi down")
    source = await make_ticket(client, subject="No internet", comment={"body": "Router blinks"})
    note = await comment(client, source["id"], ADMIN, body="Escalated to zanzibar", public=False)
    assert note.status_code == 201, note.text

    merged = await merge(client, target["id"], [source["id"]])
    assert merged.status_code == 200, merged.text

    # The source keeps its own words too; it is closed, not gone.
    assert await listed_ids(client, {"q": "router", "sort": "created_at"}) == [
        target["id"],
        source["id"],
    ]
    assert await listed_ids(client, {"q": "wifi router zanzibar"}) == [target["id"]]
    # The requester of the target reads the copied public reply, never the private note.
    assert await listed_ids(client, {"q": "router"}, customer_headers) == [target["id"]]
    assert await listed_ids(client, {"q": "zanzibar"}, customer_headers) == []


async def test_comments_written_or_removed_by_sql_are_indexed_as_well(client, database_url):
    ticket = await make_ticket(client, subject="Keyboard", comment={"body": "Sticky keys"})
    user_id = (await fetch(database_url, "SELECT id FROM users ORDER BY id LIMIT 1"))[0]["id"]
    await fetch(
        database_url,
        "INSERT INTO ticket_comments (ticket_id, author_id, body, is_public) "
        "VALUES ($1, $2, 'imported from legacy helpdesk', true), ($1, $2, 'second', false)",
        ticket["id"],
        user_id,
    )
    assert await listed_ids(client, {"q": "legacy keyboard"}) == [ticket["id"]]

    await fetch(
        database_url,
        "UPDATE ticket_comments SET body = 'rewritten' WHERE body LIKE 'imported%'",
    )
    assert await listed_ids(client, {"q": "legacy"}) == []
    assert await listed_ids(client, {"q": "rewritten"}) == [ticket["id"]]

    await fetch(database_url, "DELETE FROM ticket_comments WHERE body = 'rewritten'")
    assert await listed_ids(client, {"q": "rewritten"}) == []
    assert await listed_ids(client, {"q": "sticky keyboard"}) == [ticket["id"]]


def _distinct_words(count: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(count))


async def test_a_ticket_past_the_size_of_a_search_document_still_takes_comments(client):
    """PostgreSQL caps a tsvector at 1 MB: the ticket keeps the words it had, no error."""
    ticket = await make_ticket(client, subject="Log dump", comment={"body": "Attached logs"})
    # ~6,500 distinct words per comment, ~100 kB of tsvector each: past 1 MB after ~10.
    for seed in range(14):
        reply = await comment(client, ticket["id"], ADMIN, body=_distinct_words(6_500, seed))
        assert reply.status_code == 201, reply.text

    assert await listed_ids(client, {"q": "dump"}) == [ticket["id"]]
    last = _distinct_words(6_500, 13).split()[0]
    assert await listed_ids(client, {"q": last}) == []
    listed = await client.get(f"/v1/tickets/{ticket['id']}/comments?limit=100", headers=ADMIN)
    assert len(listed.json()["data"]) == 15


async def test_common_and_unknown_words_both_come_back_right(client, database_url):
    """Past SEARCH_PROBE_LIMIT matches the page is read in list order; below it from the
    matching ids. Both must give the same, newest-first answer."""
    first = await make_ticket(client, subject="Outage report")
    user_id = (await fetch(database_url, "SELECT id FROM users ORDER BY id LIMIT 1"))[0]["id"]
    status_id = (await fetch(database_url, "SELECT status_id FROM tickets LIMIT 1"))[0][0]
    await fetch(
        database_url,
        "INSERT INTO tickets (subject, requester_id, submitter_id, status_id, status_category,"
        " priority, priority_rank, channel, created_at, updated_at)"
        " SELECT 'Outage in region ' || g, $1, $1, $2, 'new', 'normal', 2, 'api',"
        " now() + g * interval '1 second', now() + g * interval '1 second'"
        " FROM generate_series(1, $3::int) AS g",
        user_id,
        status_id,
        SEARCH_PROBE_LIMIT + 10,
    )

    newest = [
        f"Outage in region {n}" for n in range(SEARCH_PROBE_LIMIT + 10, SEARCH_PROBE_LIMIT + 7, -1)
    ]

    # Before and after ANALYZE: without statistics every search probes the index (and
    # "outage" fills the probe); with them, words in 1 % of tickets skip the probe.
    for analyzed in (False, True):
        if analyzed:
            await fetch(database_url, "ANALYZE tickets")
        probe = await fetch(database_url, "SELECT ticket_search_probe('outage', $1)", 2000)
        assert (probe[0][0] is None) is analyzed
        common = await client.get("/v1/tickets", params={"q": "outage", "limit": 3}, headers=ADMIN)
        assert [t["subject"] for t in common.json()["data"]] == newest
        assert common.json()["next_cursor"] is not None
        assert await listed_ids(client, {"q": "report"}) == [first["id"]]
        assert await listed_ids(client, {"q": "outage report"}) == [first["id"]]
        assert await listed_ids(client, {"q": "outagge"}) == []
        assert await listed_ids(client, {"q": "!!! ..."}) == []

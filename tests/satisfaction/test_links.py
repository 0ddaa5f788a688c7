"""The solved notice's rating link: one token per resolution, kept as a digest, changeable
until the ticket closes, dead once the ticket is reopened or the link expires."""

import asyncpg

from helpdesk_api.core.auth import hash_token
from tests.factories import ADMIN, assert_problem
from tests.mail.mailboxes import deliver, make_mailbox
from tests.mail.messages import message
from tests.satisfaction.helpers import events_of, rating_tokens, set_status
from tests.tickets.factories import get_ticket


async def _mail_ticket(client):
    box = await make_mailbox(client)
    raw = message(sender="Rita Rossi <rita@example.org>", subject="Router keeps rebooting")
    return (await deliver(client, box["id"], raw))["ticket_id"]


async def test_the_solved_notice_links_a_rating_of_that_resolution(client, database_url, clock):
    ticket_id = await _mail_ticket(client)
    await set_status(client, ticket_id, "open")
    assert await rating_tokens(client, database_url, ticket_id) == []  # only once solved
    await set_status(client, ticket_id, "solved")
    [first] = await rating_tokens(client, database_url, ticket_id)

    # Only the digest is stored.
    connection = await asyncpg.connect(database_url)
    try:
        stored = await connection.fetchval(
            "SELECT token_hash FROM satisfaction_ratings WHERE ticket_id = $1", ticket_id
        )
    finally:
        await connection.close()
    assert stored == hash_token(first)
    assert first.encode() not in stored

    survey = (await client.get(f"/v1/public/satisfaction/{first}")).json()
    assert survey["ticket_id"] == ticket_id
    assert survey["subject"] == "Router keeps rebooting"
    assert (survey["open"], survey["score"], survey["scale"]) == (True, None, "good_bad")

    rated = await client.post(
        f"/v1/public/satisfaction/{first}",
        json={"score": "good", "comment": "Quick and kind."},
    )
    assert rated.status_code == 200, rated.text
    assert (rated.json()["score"], rated.json()["comment"]) == ("good", "Quick and kind.")
    again = await client.post(
        f"/v1/public/satisfaction/{first}", json={"score": "good", "comment": "Quick and kind."}
    )
    assert again.status_code == 200  # the same answer twice changes nothing
    changed = await client.post(
        f"/v1/public/satisfaction/{first}", json={"score": "bad", "reason": "not_resolved"}
    )
    assert changed.json()["score"] == "bad"
    assert changed.json()["comment"] is None
    ticket = await get_ticket(client, ticket_id)
    assert ticket["satisfaction_score"] == "bad"
    assert ticket["status"]["category"] == "solved"  # reopening is off by default
    audits = (await client.get(f"/v1/tickets/{ticket_id}/audits", headers=ADMIN)).json()["data"]
    rating_audits = [
        a for a in audits if any(c["field"] == "satisfaction_score" for c in a["changes"])
    ]
    assert {a["via"] for a in rating_audits} == {"satisfaction"}
    assert len(rating_audits) == 2  # good, then bad: the repeat wrote nothing

    # Reopened: the link is for the earlier resolution.
    await set_status(client, ticket_id, "open")
    assert_problem(
        await client.post(f"/v1/public/satisfaction/{first}", json={"score": "good"}), 409
    )
    # Solved again: a new link, a new rating; the first stays as it was.
    clock.advance(hours=1)
    await set_status(client, ticket_id, "solved")
    tokens = await rating_tokens(client, database_url, ticket_id)
    assert len(tokens) == 2
    assert tokens[0] == first
    second = tokens[1]
    assert (await client.get(f"/v1/public/satisfaction/{first}")).json()["open"] is False
    good = await client.post(f"/v1/public/satisfaction/{second}", json={"score": "good"})
    assert good.status_code == 200, good.text
    listed = (await client.get("/v1/satisfaction-ratings", headers=ADMIN)).json()["data"]
    assert [(r["ticket_id"], r["score"]) for r in listed] == [
        (ticket_id, "good"),
        (ticket_id, "bad"),
    ]
    assert listed[0]["view"] == "staff"
    assert listed[0]["requester_id"] == ticket["requester_id"]

    events = await events_of(database_url, ticket_id, "satisfaction.")
    assert [e["type"] for e in events] == [
        "satisfaction.rated", "satisfaction.changed", "satisfaction.rated",
    ]  # fmt: skip
    assert not any(e["is_public"] for e in events)  # staff only: never in a customer's stream

    # Closed: no more changes; then expired links are gone.
    await set_status(client, ticket_id, "closed")
    assert_problem(
        await client.post(f"/v1/public/satisfaction/{second}", json={"score": "bad"}), 409
    )
    clock.advance(days=29)
    assert_problem(await client.get(f"/v1/public/satisfaction/{second}"), 410)
    assert_problem(
        await client.post(f"/v1/public/satisfaction/{second}", json={"score": "bad"}), 410
    )


async def test_bad_links_and_bodies_are_refused_without_a_change(client, database_url, clock):
    ticket_id = await _mail_ticket(client)
    await set_status(client, ticket_id, "solved")
    [token] = await rating_tokens(client, database_url, ticket_id)
    for unknown in ("cs_" + "A" * 43, "garbage", token[:-1] + ("B" if token[-1] != "B" else "C")):
        assert_problem(await client.get(f"/v1/public/satisfaction/{unknown}"), 404)
        assert_problem(
            await client.post(f"/v1/public/satisfaction/{unknown}", json={"score": "good"}), 404
        )
    for body in (
        {},
        {"score": "great"},
        {"score": "good", "rating": 5},  # the five-point scale is not configured
        {"score": "good", "reason": "because"},
        {"score": "good", "extra": 1},
    ):
        assert_problem(await client.post(f"/v1/public/satisfaction/{token}", json=body), 422)
    ticket = await get_ticket(client, ticket_id)
    assert ticket["satisfaction_score"] is None
    assert await events_of(database_url, ticket_id, "satisfaction.") == []

"""Merging tickets: conversations, people, tags and the closed sources, in one transaction."""

from datetime import datetime

import pytest

from tests.factories import ADMIN, make_user_with_token
from tests.merging.factories import comments, fetch, merge
from tests.tickets.factories import audits, comment, get_ticket, make_ticket

SECRET = "merged-note-zanzibar"


@pytest.fixture
async def three(client):
    """A target and two sources from three customers, each with public and private comments."""
    people = [await make_user_with_token(client) for _ in range(3)]
    tickets = []
    for n, (user, _) in enumerate(people):
        ticket = await make_ticket(
            client,
            subject=f"VPN down {n}",
            requester_id=user["id"],
            tags=[f"tag{n}", "vpn"],
            comment={"body": f"first words of ticket {n}"},
        )
        await comment(client, ticket["id"], ADMIN, body=f"public answer {n}")
        tickets.append(ticket)
    note = await comment(client, tickets[1]["id"], ADMIN, body=f"{SECRET}", public=False)
    assert note.status_code == 201
    return {"tickets": tickets, "people": people}


async def test_three_way_merge_copies_conversations_in_time_order(client, three):
    target, b, c = (t["id"] for t in three["tickets"])
    before = await comments(client, target)
    response = await merge(client, target, [c, b], target_comment="Merged duplicates.")
    assert response.status_code == 200, response.text
    body = response.json()
    after = await comments(client, target)
    copied = after[len(before) : -1]
    assert [c_["id"] for c_ in copied] == body["copied_comment_ids"]
    originals = await comments(client, b) + await comments(client, c)
    originals = [o for o in originals if o["via"] != "merge"]
    originals.sort(key=lambda o: (o["created_at"], o["id"]))
    assert [(x["body"], x["author_id"], x["public"], x["created_at"]) for x in copied] == [
        (o["body"], o["author_id"], o["public"], o["created_at"]) for o in originals
    ]
    times = [datetime.fromisoformat(x["created_at"]) for x in copied]
    assert times == sorted(times)
    assert all(x["via"] == "merge" for x in copied)
    assert after[-1]["body"] == "Merged duplicates."
    assert after[-1]["public"] is False
    assert body["target"]["comment_count"] == len(after)


async def test_private_note_merged_from_a_source_stays_private_and_hidden_from_customers(
    client, three
):
    target, b, c = (t["id"] for t in three["tickets"])
    assert (await merge(client, target, [b, c], public=True)).status_code == 200
    staff_view = await comments(client, target)
    notes = [x for x in staff_view if SECRET in x["body"]]
    assert len(notes) == 1
    assert notes[0]["public"] is False
    _, target_requester = three["people"][0]
    _, former_source_requester = three["people"][1]
    for headers in (target_requester, former_source_requester):
        for response in (
            await client.get(f"/v1/tickets/{target}", headers=headers),
            await client.get(f"/v1/tickets/{target}/comments?limit=100", headers=headers),
            await client.get("/v1/tickets?q=zanzibar", headers=headers),
            await client.get(f"/v1/tickets/{b}/comments?limit=100", headers=headers),
        ):
            assert response.status_code in (200, 404), response.text
            assert SECRET not in response.text
            assert "zanzibar" not in response.text
        visible = await client.get(f"/v1/tickets/{target}/comments?limit=100", headers=headers)
        assert visible.status_code == 200
        assert all(x["public"] for x in visible.json()["data"])


async def test_source_requesters_become_ccs_and_see_replies_on_the_target(client, three):
    target, b, c = (t["id"] for t in three["tickets"])
    await merge(client, target, [b, c])
    ccs = (await client.get(f"/v1/tickets/{target}/ccs", headers=ADMIN)).json()["data"]
    source_requesters = {three["people"][1][0]["id"], three["people"][2][0]["id"]}
    assert {x["user_id"] for x in ccs} == source_requesters
    assert {x["kind"] for x in ccs} == {"cc"}
    reply = await comment(client, target, ADMIN, body="Fixed for everyone.")
    assert reply.status_code == 201
    _, headers = three["people"][2]
    seen = await client.get(f"/v1/tickets/{target}/comments?limit=100", headers=headers)
    assert seen.status_code == 200
    assert "Fixed for everyone." in seen.text
    listed = await client.get("/v1/tickets", headers=headers)
    assert target in [t["id"] for t in listed.json()["data"]]


async def test_sources_are_closed_with_a_note_and_tell_where_they_went(client, three):
    target, b, c = (t["id"] for t in three["tickets"])
    response = await merge(client, target, [b, c], source_comment="Moved to the main ticket.")
    for source in response.json()["sources"]:
        assert source["status"]["category"] == "closed"
        assert source["merged_into_id"] == target
    last = (await comments(client, b))[-1]
    assert last["body"] == "Moved to the main ticket."
    assert last["public"] is False
    _, headers = three["people"][1]
    as_customer = await get_ticket(client, b, headers)
    assert as_customer["merged_into_id"] == target
    assert as_customer["status"]["category"] == "closed"


async def test_default_comments_name_the_other_tickets(client, three):
    target, b, _ = (t["id"] for t in three["tickets"])
    await merge(client, target, [b])
    assert f"#{b}" in (await comments(client, target))[-1]["body"]
    assert f"#{target}" in (await comments(client, b))[-1]["body"]


async def test_tags_are_united_and_counted_once_per_ticket(client, three):
    target, b, c = (t["id"] for t in three["tickets"])
    response = await merge(client, target, [b, c])
    assert response.json()["target"]["tags"] == ["tag0", "vpn", "tag1", "tag2"]
    counts = {
        t["name"]: t["ticket_count"]
        for t in (await client.get("/v1/tags", headers=ADMIN)).json()["data"]
    }
    # The sources keep their tags; the target gained tag1 and tag2.
    assert counts == {"vpn": 3, "tag0": 1, "tag1": 2, "tag2": 2}


async def test_every_touched_ticket_is_audited_and_one_merged_event_recorded(
    client, three, database_url
):
    target, b, c = (t["id"] for t in three["tickets"])
    await merge(client, target, [b, c])
    for ticket_id in (target, b, c):
        last = (await audits(client, ticket_id))[-1]
        assert last["via"] == "merge"
        assert last["actor_id"] is not None
    fields = {ch["field"] for ch in (await audits(client, b))[-1]["changes"]}
    assert {"status", "merged_into_id", "comment"} <= fields
    target_fields = {ch["field"] for ch in (await audits(client, target))[-1]["changes"]}
    assert {"merged_from", "copied_comments", "ccs", "tags", "comment"} <= target_fields
    events = await fetch(
        database_url, "SELECT ticket_id, data FROM events WHERE type = 'ticket.merged'"
    )
    assert len(events) == 1
    assert events[0]["ticket_id"] == target


async def test_attachments_of_merged_comments_are_referenced_not_moved(client):
    upload = await client.post(
        "/v1/attachments?filename=log.txt",
        content=b"the log",
        headers={**ADMIN, "content-type": "text/plain"},
    )
    assert upload.status_code == 201, upload.text
    target = await make_ticket(client)
    source = await make_ticket(
        client, comment={"body": "see log", "attachment_ids": [upload.json()["id"]]}
    )
    await merge(client, target["id"], [source["id"]])
    copied = [c for c in await comments(client, target["id"]) if c["attachments"]]
    assert len(copied) == 1
    attachment = copied[0]["attachments"][0]
    assert attachment["id"] != upload.json()["id"]
    download = await client.get(f"/v1/attachments/{attachment['id']}/content", headers=ADMIN)
    assert download.status_code == 200
    assert download.content == b"the log"
    original = (await comments(client, source["id"]))[0]["attachments"]
    assert [a["id"] for a in original] == [upload.json()["id"]]


async def test_idempotent_retry_does_not_merge_twice(client, three):
    target, b, c = (t["id"] for t in three["tickets"])
    headers = {**ADMIN, "Idempotency-Key": "merge-1"}
    first = await merge(client, target, [b, c], headers=headers)
    second = await merge(client, target, [b, c], headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json() == first.json()
    assert len(await comments(client, target)) == first.json()["target"]["comment_count"]
    assert sum(1 for a in await audits(client, target) if a["via"] == "merge") == 1


async def test_merged_comments_interleave_with_the_targets_by_time(client):
    target = await make_ticket(client, subject="Login fails")
    source = await make_ticket(client, subject="Cannot log in")
    await comment(client, target["id"], ADMIN, body="later reply on the target")
    response = await merge(client, target["id"], [source["id"]])
    assert response.status_code == 200, response.text
    bodies = [c["body"] for c in await comments(client, target["id"])]
    # The source's first comment was written before the target's reply, so it comes first.
    assert bodies.index("It is on fire.", 1) < bodies.index("later reply on the target")
    times = [datetime.fromisoformat(c["created_at"]) for c in await comments(client, target["id"])]
    assert times == sorted(times)

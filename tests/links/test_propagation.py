"""One reply for all: a problem's reply and its solving reach every linked incident."""

import pytest

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.merging.factories import comments, link
from tests.tickets.factories import (
    audits,
    comment,
    get_ticket,
    make_ticket,
    status_id,
    update_ticket,
)


@pytest.fixture
async def outage(client):
    """A problem with two incidents from two customers, and an unrelated related ticket."""
    problem = await make_ticket(client, subject="Mail outage", type="problem")
    people = [await make_user_with_token(client) for _ in range(2)]
    incidents = []
    for user, _ in people:
        incident = await make_ticket(
            client, subject="No mail", type="incident", requester_id=user["id"]
        )
        assert (await link(client, problem["id"], incident["id"], "incident")).status_code == 201
        incidents.append(incident)
    bystander = await make_ticket(client)
    await link(client, problem["id"], bystander["id"], "related")
    return {"problem": problem, "incidents": incidents, "people": people, "other": bystander}


async def test_propagated_reply_reaches_every_incident_audited_via_problem(client, outage):
    reply = await comment(
        client, outage["problem"]["id"], ADMIN, body="We are on it.", propagate=True
    )
    assert reply.status_code == 201, reply.text
    for incident, (_, headers) in zip(outage["incidents"], outage["people"], strict=True):
        seen = await comments(client, incident["id"], headers)
        assert seen[-1]["body"] == "We are on it."
        assert seen[-1]["via"] == "problem"
        assert seen[-1]["author_id"] == reply.json()["author_id"]
        last = (await audits(client, incident["id"]))[-1]
        assert last["via"] == "problem"
        assert (await get_ticket(client, incident["id"]))["status"]["category"] == "open"
    other = await comments(client, outage["other"]["id"])
    assert "We are on it." not in [c["body"] for c in other]
    problem_comments = await comments(client, outage["problem"]["id"])
    assert [c["body"] for c in problem_comments].count("We are on it.") == 1


async def test_a_reply_without_propagate_stays_on_the_problem(client, outage):
    await comment(client, outage["problem"]["id"], ADMIN, body="Internal progress.")
    for incident in outage["incidents"]:
        assert "Internal progress." not in [
            c["body"] for c in await comments(client, incident["id"])
        ]


async def test_solving_the_problem_solves_its_incidents_with_the_reply(client, outage):
    solved = await status_id(client, "solved")
    await update_ticket(
        client, outage["problem"]["id"], status_id=solved, comment={"body": "Fixed."}
    )
    for incident in outage["incidents"]:
        ticket = await get_ticket(client, incident["id"])
        assert ticket["status"]["category"] == "solved"
        assert (await comments(client, incident["id"]))[-1]["body"] == "Fixed."
        last = (await audits(client, incident["id"]))[-1]
        assert last["via"] == "problem"
        assert {c["field"] for c in last["changes"]} >= {"status", "comment"}
    assert (await get_ticket(client, outage["other"]["id"]))["status"]["category"] != "solved"


async def test_solving_without_a_reply_moves_status_only(client, outage):
    await update_ticket(
        client, outage["problem"]["id"], status_id=await status_id(client, "solved")
    )
    incident = outage["incidents"][0]
    assert (await get_ticket(client, incident["id"]))["status"]["category"] == "solved"
    assert len(await comments(client, incident["id"])) == 1


async def test_closed_incidents_are_left_alone(client, outage):
    closed = outage["incidents"][0]
    await update_ticket(client, closed["id"], status_id=await status_id(client, "closed"))
    reply = await comment(client, outage["problem"]["id"], ADMIN, body="Update.", propagate=True)
    assert reply.status_code == 201, reply.text
    assert len(await comments(client, closed["id"])) == 1
    assert (await comments(client, outage["incidents"][1]["id"]))[-1]["body"] == "Update."


async def test_propagate_needs_a_public_reply_on_a_problem(client, outage):
    note = await comment(
        client, outage["problem"]["id"], ADMIN, body="x", public=False, propagate=True
    )
    assert assert_problem(note, 422)["errors"][0]["loc"] == ["body", "propagate"]
    other = await comment(client, outage["other"]["id"], ADMIN, body="x", propagate=True)
    assert_problem(other, 422)
    assert len(await comments(client, outage["other"]["id"])) == 1


async def test_reply_to_linked_answers_the_ticket_and_every_linked_one_once(client, outage):
    problem = outage["problem"]["id"]
    response = await client.post(
        f"/v1/tickets/{problem}/links/reply",
        json={"body": "Status page updated.", "status_id": await status_id(client, "solved")},
        headers={**ADMIN, "Idempotency-Key": "reply-all"},
    )
    assert response.status_code == 201, response.text
    answered = {c["ticket_id"] for c in response.json()["data"]}
    everyone = {problem, outage["other"]["id"], *(i["id"] for i in outage["incidents"])}
    assert answered == everyone
    for ticket_id in everyone:
        bodies = [c["body"] for c in await comments(client, ticket_id)]
        assert bodies.count("Status page updated.") == 1
        assert (await get_ticket(client, ticket_id))["status"]["category"] == "solved"
        assert (await audits(client, ticket_id))[-1]["via"] == "links"


async def test_reply_to_linked_skips_closed_tickets(client, outage):
    closed = outage["incidents"][0]["id"]
    await update_ticket(client, closed, status_id=await status_id(client, "closed"))
    response = await client.post(
        f"/v1/tickets/{outage['problem']['id']}/links/reply",
        json={"body": "Hello all", "public": True},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    assert response.json()["skipped_ticket_ids"] == [closed]
    assert len(response.json()["data"]) == 3

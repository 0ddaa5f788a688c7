"""One rule through every path: what each role may see and do, for the findings of the
hardening review (event feed, propagation, solving, tag counts)."""

import asyncio
import itertools

import pytest

from helpdesk_api.access.permissions import (
    TICKET_PERMISSIONS,
    Relation,
    TicketAction,
    allows,
)
from helpdesk_api.models import Role
from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.merging.factories import comments, link
from tests.tickets.factories import comment, make_ticket, status_id, update_ticket

SECRET = "kilimanjaro-internal"
_n = itertools.count().__next__


async def _group(client, name, *members):
    group = (await client.post("/v1/groups", json={"name": name}, headers=ADMIN)).json()["id"]
    for member in members:
        added = await client.put(f"/v1/groups/{group}/members/{member}", headers=ADMIN)
        assert added.status_code == 204, added.text
    return group


async def _settled(client):
    """Wait until every event so far is readable: the feed's horizon is cluster-wide, and a
    transaction elsewhere (a test database being prepared) may hold it back a moment. A
    negative check on a feed that has not caught up would prove nothing."""
    marker = await client.post("/v1/groups", json={"name": f"marker {id(client)}-{_n()}"},
                               headers=ADMIN)  # fmt: skip
    assert marker.status_code == 201
    for _ in range(200):
        events = await _feed(client, ADMIN, type="group.created")
        if any(e["data"]["group"]["id"] == marker.json()["id"] for e in events):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the event feed did not catch up")


async def _feed(client, headers, **params):
    events, after = [], None
    while True:
        query = {**params, **({"after": after} if after else {})}
        response = await client.get("/v1/events", params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        events.extend(page["data"])
        if not page["data"]:
            return events
        after = page["next_cursor"]


@pytest.fixture
async def two_groups(client):
    """An agent and a light agent limited to EMEA; a ticket there and one in APAC with a
    private note and a private attachment."""
    agent, agent_headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    light, light_headers = await make_user_with_token(
        client, role="light_agent", ticket_access="groups"
    )
    emea = await _group(client, "EMEA", agent["id"], light["id"])
    apac = await _group(client, "APAC")
    inside = await make_ticket(client, group_id=emea, tags=["emea_only"])
    outside = await make_ticket(client, group_id=apac, tags=["apac_secret"])
    upload = await client.post(
        "/v1/attachments?filename=apac-payroll.pdf",
        content=b"%PDF-1.4 x",
        headers={**ADMIN, "content-type": "application/pdf"},
    )
    note = await comment(
        client, outside["id"], ADMIN, body=SECRET, public=False,
        attachment_ids=[upload.json()["id"]],
    )  # fmt: skip
    assert note.status_code == 201, note.text
    return {
        "agent": agent_headers,
        "light": light_headers,
        "emea": emea,
        "apac": apac,
        "inside": inside,
        "outside": outside,
    }


async def test_group_restricted_staff_read_only_their_tickets_events(client, two_groups):
    await _settled(client)
    for headers in (two_groups["agent"], two_groups["light"]):
        events = await _feed(client, headers)
        ticket_ids = {e["ticket_id"] for e in events if e["ticket_id"] is not None}
        assert ticket_ids == {two_groups["inside"]["id"]}
        text = str(events)
        assert SECRET not in text
        assert "apac-payroll" not in text
        assert "apac_secret" not in text
        # The type filter narrows what they may see; it never widens it.
        notes = await _feed(client, headers, type="comment.created")
        assert {e["ticket_id"] for e in notes} == {two_groups["inside"]["id"]}
    admin_ids = {e["ticket_id"] for e in await _feed(client, ADMIN)}
    assert {two_groups["inside"]["id"], two_groups["outside"]["id"]} <= admin_ids


async def test_webhook_and_others_upload_events_are_for_admins(client):
    created = await client.post(
        "/v1/webhooks",
        json={"url": "http://user:hunter2@127.0.0.1:1/in?token=s3cret"},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    _, agent = await make_user_with_token(client, role="agent")
    upload = await client.post(
        "/v1/attachments?filename=board-minutes.pdf",
        content=b"%PDF-1.4 x",
        headers={**ADMIN, "content-type": "application/pdf"},
    )
    assert upload.status_code == 201
    await _settled(client)
    agent_text = str(await _feed(client, agent))
    assert "hunter2" not in agent_text
    assert "webhook." not in agent_text
    assert "board-minutes" not in agent_text
    admin_types = {e["type"] for e in await _feed(client, ADMIN)}
    assert {"webhook.created", "attachment.created"} <= admin_types
    own = await client.post(
        "/v1/attachments?filename=mine.txt",
        content=b"mine",
        headers={**agent, "content-type": "text/plain"},
    )
    assert own.status_code == 201
    await _settled(client)
    assert "mine.txt" in str(await _feed(client, agent))


async def test_propagation_reaches_only_incidents_the_agent_may_see(client, two_groups):
    agent = two_groups["agent"]
    problem = await make_ticket(client, type="problem", group_id=two_groups["emea"])
    own = await make_ticket(client, type="incident", group_id=two_groups["emea"])
    foreign = await make_ticket(client, type="incident", group_id=two_groups["apac"])
    for incident in (own, foreign):
        assert (await link(client, problem["id"], incident["id"], "incident")).status_code == 201
    reply = await comment(client, problem["id"], agent, body="Fixed upstream.", propagate=True)
    assert reply.status_code == 201, reply.text
    assert "Fixed upstream." in [c["body"] for c in await comments(client, own["id"])]
    assert "Fixed upstream." not in [c["body"] for c in await comments(client, foreign["id"])]
    # An admin who sees both reaches both.
    again = await comment(client, problem["id"], ADMIN, body="Root cause found.", propagate=True)
    assert again.status_code == 201
    assert "Root cause found." in [c["body"] for c in await comments(client, foreign["id"])]


async def test_only_the_requester_may_mark_a_ticket_solved(client):
    organization = (
        await client.post(
            "/v1/organizations", json={"name": "Acme", "shared_tickets": True}, headers=ADMIN
        )
    ).json()["id"]
    requester, requester_headers = await make_user_with_token(client, organization_id=organization)
    _, peer_headers = await make_user_with_token(client, organization_id=organization)
    copied, copied_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, requester_id=requester["id"])
    cc = await client.put(f"/v1/tickets/{ticket['id']}/ccs/{copied['id']}", headers=ADMIN)
    assert cc.status_code == 204
    solved = await status_id(client, "solved")
    for headers in (peer_headers, copied_headers):
        refused = await client.patch(
            f"/v1/tickets/{ticket['id']}", json={"status_id": solved}, headers=headers
        )
        body = assert_problem(refused, 403)
        assert "requester" in body["detail"]
        assert (await comment(client, ticket["id"], headers, body="Me too")).status_code == 201
    current = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).json()
    assert current["status"]["category"] != "solved"
    await update_ticket(client, ticket["id"], requester_headers, status_id=solved)
    current = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).json()
    assert current["status"]["category"] == "solved"


async def test_tag_counts_cover_only_tickets_the_caller_may_see(client, two_groups):
    await make_ticket(client, group_id=two_groups["emea"], tags=["emea_only", "shared"])
    await make_ticket(client, group_id=two_groups["apac"], tags=["shared"])
    listed = await client.get("/v1/tags", headers=two_groups["agent"])
    assert listed.status_code == 200, listed.text
    counts = {t["name"]: t["ticket_count"] for t in listed.json()["data"]}
    assert counts == {"emea_only": 2, "shared": 1}
    prefixed = await client.get("/v1/tags", params={"q": "sha"}, headers=two_groups["agent"])
    assert {t["name"]: t["ticket_count"] for t in prefixed.json()["data"]} == {"shared": 1}
    page = await client.get("/v1/tags", params={"limit": 1}, headers=two_groups["agent"])
    assert [t["name"] for t in page.json()["data"]] == ["emea_only"]
    rest = await client.get(
        "/v1/tags",
        params={"limit": 1, "cursor": page.json()["next_cursor"]},
        headers=two_groups["agent"],
    )
    assert [t["name"] for t in rest.json()["data"]] == ["shared"]
    everyone = {t["name"]: t["ticket_count"] for t in (await client.get(
        "/v1/tags", headers=ADMIN)).json()["data"]}  # fmt: skip
    assert everyone == {"emea_only": 2, "shared": 2, "apac_secret": 1}


def test_the_permission_table_grants_what_the_product_promises():
    assert allows(Role.customer, Relation.requester, TicketAction.solve)
    assert not allows(Role.customer, Relation.shared, TicketAction.solve)
    assert allows(Role.customer, Relation.shared, TicketAction.reply)
    assert not any(allows(Role.customer, relation, TicketAction.note) for relation in Relation)
    assert allows(Role.light_agent, Relation.staff, TicketAction.note)
    assert not allows(Role.light_agent, Relation.staff, TicketAction.reply)
    for action in TicketAction:
        assert allows(Role.agent, Relation.staff, action)
        assert allows(None, Relation.staff, action)  # the service itself
    # Staff never act as customers and customers never as staff.
    assert all((role == Role.customer) != (relation == Relation.staff)
               for role, relation in TICKET_PERMISSIONS)  # fmt: skip


async def test_webhook_events_never_carry_credentials_or_query_secrets(client):
    created = await client.post(
        "/v1/webhooks",
        json={"url": "http://bot:hunter2@127.0.0.1:8080/in?token=s3cret&x=1"},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    changed = await client.patch(
        f"/v1/webhooks/{hook['id']}",
        json={"url": "http://127.0.0.1:8080/in?token=n3wsecret"},
        headers={**ADMIN, "If-Match": created.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    await _settled(client)
    events = [e for e in await _feed(client, ADMIN) if e["type"].startswith("webhook.")]
    assert [e["type"] for e in events] == ["webhook.created", "webhook.updated"]
    text = str(events)
    for secret in ("hunter2", "bot:", "s3cret", "n3wsecret"):
        assert secret not in text
    assert events[0]["data"]["webhook"]["url"] == (
        "http://127.0.0.1:8080/in?token=redacted&x=redacted"
    )
    url_change = next(c for c in events[1]["data"]["changes"] if c["field"] == "url")
    assert url_change["to"] == "http://127.0.0.1:8080/in?token=redacted"
    # The admin API itself still shows the whole URL: admins configure it.
    read = await client.get(f"/v1/webhooks/{hook['id']}", headers=ADMIN)
    assert "n3wsecret" in read.json()["url"]


async def test_rule_events_are_for_admins_and_a_rules_private_note_never_reaches_customers(
    client,
):
    rule = {
        "title": "Note every ticket",
        "conditions": {"all": [{"field": "update_type", "operator": "is", "value": "created"}]},
        "actions": [{"action": "add_note", "body": f"{SECRET} (by rule)"}],
    }
    created = await client.post("/v1/triggers", json=rule, headers=ADMIN)
    assert created.status_code == 201, created.text
    _, customer_headers = await make_user_with_token(client)
    _, agent = await make_user_with_token(client, role="agent")
    ticket = await client.post(
        "/v1/tickets",
        json={"subject": "Hello", "comment": {"body": "Hi"}},
        headers=customer_headers,
    )
    assert ticket.status_code == 201, ticket.text
    ticket_id = ticket.json()["id"]
    await _settled(client)

    assert "trigger." not in str(await _feed(client, agent))
    assert "trigger.created" in {e["type"] for e in await _feed(client, ADMIN)}
    comments = await client.get(f"/v1/tickets/{ticket_id}/comments", headers=customer_headers)
    assert SECRET not in comments.text
    single = await client.get(f"/v1/tickets/{ticket_id}", headers=customer_headers)
    assert SECRET not in single.text
    staff = await client.get(f"/v1/tickets/{ticket_id}/comments", headers=ADMIN)
    assert SECRET in staff.text

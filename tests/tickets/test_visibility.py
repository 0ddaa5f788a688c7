"""Who sees which tickets, and that a private note never reaches a customer by any path."""

from email import message_from_bytes, policy

import asyncpg
import pytest

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.tickets.factories import comment, make_group, make_ticket

SECRET = "zanzibar-internal-only"


async def _org(client, shared):
    response = await client.post(
        "/v1/organizations", json={"name": f"Org {shared}", "shared_tickets": shared}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
async def world(client):
    """A customer's ticket with a public reply, a private note and a staff-only tag."""
    requester, requester_headers = await make_user_with_token(client)
    ticket = await make_ticket(
        client,
        requester_id=requester["id"],
        tags=["escalated_to_legal"],
        priority="urgent",
        external_id="crm-7",
        required_skills=["tier:3"],
    )
    await comment(client, ticket["id"], ADMIN, body="We are looking into it.")
    note = await comment(client, ticket["id"], ADMIN, body=f"Note: {SECRET}", public=False)
    assert note.status_code == 201
    return {"ticket": ticket, "requester": requester_headers}


async def test_customer_never_sees_private_notes_or_internal_fields(client, world):
    ticket_id, headers = world["ticket"]["id"], world["requester"]
    responses = [
        await client.get(f"/v1/tickets/{ticket_id}", headers=headers),
        await client.get("/v1/tickets", headers=headers),
        await client.get(f"/v1/tickets/{ticket_id}/comments", headers=headers),
        await client.get("/v1/tickets?q=zanzibar", headers=headers),
        await client.get("/v1/tickets?q=looking", headers=headers),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert SECRET not in response.text
        internal_fields = ("assignee_id", "group_id", "required_skills", "tier:3")
        for internal in ("escalated_to_legal", "crm-7", "urgent", *internal_fields):
            assert internal not in response.text
    assert responses[3].json()["data"] == []
    assert [t["id"] for t in responses[4].json()["data"]] == [ticket_id]
    comments = responses[2].json()["data"]
    assert [c["public"] for c in comments] == [True, True]


@pytest.mark.parametrize("resource", ["audits", "deliveries", "suggested-products", "metrics"])
async def test_customer_cannot_read_staff_only_ticket_resources(client, world, resource):
    response = await client.get(
        f"/v1/tickets/{world['ticket']['id']}/{resource}", headers=world["requester"]
    )
    assert_problem(response, 403)


async def test_customer_comment_response_and_ticket_update_hide_notes(client, world):
    ticket_id, headers = world["ticket"]["id"], world["requester"]
    reply = await comment(client, ticket_id, headers, body="thanks")
    assert SECRET not in reply.text
    solved = (await client.get("/v1/ticket-statuses?category=solved", headers=headers)).json()
    updated = await client.patch(
        f"/v1/tickets/{ticket_id}", json={"status_id": solved["data"][0]["id"]}, headers=headers
    )
    assert updated.status_code == 200
    assert SECRET not in updated.text
    assert "escalated_to_legal" not in updated.text


async def test_other_customer_gets_404_everywhere(client, world):
    ticket_id = world["ticket"]["id"]
    _, stranger = await make_user_with_token(client)
    for response in (
        await client.get(f"/v1/tickets/{ticket_id}", headers=stranger),
        await client.get(f"/v1/tickets/{ticket_id}/comments", headers=stranger),
        await comment(client, ticket_id, stranger, body="hi"),
        await client.patch(f"/v1/tickets/{ticket_id}", json={"status_id": 5}, headers=stranger),
    ):
        assert_problem(response, 404)
    assert (await client.get("/v1/tickets", headers=stranger)).json()["data"] == []


async def test_staff_see_notes_and_internal_fields(client, world):
    ticket_id = world["ticket"]["id"]
    for role in ("agent", "light_agent", "admin"):
        _, headers = await make_user_with_token(client, role=role)
        listed = await client.get(f"/v1/tickets/{ticket_id}/comments", headers=headers)
        assert SECRET in listed.text
        ticket = (await client.get(f"/v1/tickets/{ticket_id}", headers=headers)).json()
        assert ticket["tags"] == ["escalated_to_legal"]
        assert ticket["priority"] == "urgent"
        assert ticket["required_skills"] == ["tier:3"]
        found = await client.get("/v1/tickets?q=zanzibar", headers=headers)
        assert [t["id"] for t in found.json()["data"]] == [ticket_id]


async def test_organisation_members_see_each_others_tickets_only_when_shared(client):
    shared, private = await _org(client, True), await _org(client, False)
    alice, alice_headers = await make_user_with_token(client, organization_id=shared)
    _, bob_headers = await make_user_with_token(client, organization_id=shared)
    carol, carol_headers = await make_user_with_token(client, organization_id=private)
    _, dave_headers = await make_user_with_token(client, organization_id=private)
    alices = await make_ticket(client, requester_id=alice["id"])
    carols = await make_ticket(client, requester_id=carol["id"])
    assert (await client.get(f"/v1/tickets/{alices['id']}", headers=bob_headers)).status_code == 200
    assert_problem(await client.get(f"/v1/tickets/{carols['id']}", headers=dave_headers), 404)
    assert_problem(await client.get(f"/v1/tickets/{alices['id']}", headers=carol_headers), 404)
    listed = await client.get("/v1/tickets", headers=bob_headers)
    assert [t["id"] for t in listed.json()["data"]] == [alices["id"]]
    assert (await client.get("/v1/tickets", headers=alice_headers)).json()["data"][0][
        "id"
    ] == alices["id"]


async def test_group_restricted_agent_sees_only_their_groups_tickets(client):
    group = (await client.post("/v1/groups", json={"name": "EMEA"}, headers=ADMIN)).json()["id"]
    agent, headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    await client.put(f"/v1/groups/{group}/members/{agent['id']}", headers=ADMIN)
    inside = await make_ticket(client, group_id=group)
    outside = await make_ticket(client)
    listed = await client.get("/v1/tickets", headers=headers)
    assert [t["id"] for t in listed.json()["data"]] == [inside["id"]]
    assert_problem(await client.get(f"/v1/tickets/{outside['id']}", headers=headers), 404)
    assert_problem(await comment(client, outside["id"], headers, body="x"), 404)
    for resource in ("audits", "deliveries"):
        path = f"/v1/tickets/{outside['id']}/{resource}"
        assert_problem(await client.get(path, headers=headers), 404)


async def test_customers_without_organisation_never_see_each_others_tickets(client):
    """Visibility names the caller's shared organisation only when there is one: a missing
    organisation must never read as "tickets without an organisation"."""
    alice, alice_headers = await make_user_with_token(client)
    bob, bob_headers = await make_user_with_token(client)
    alices = await make_ticket(client, requester_id=alice["id"], subject="Alice zanzibar")
    bobs = await make_ticket(client, requester_id=bob["id"], subject="Bob zanzibar")
    for headers, own, other in ((alice_headers, alices, bobs), (bob_headers, bobs, alices)):
        listed = await client.get("/v1/tickets?q=zanzibar", headers=headers)
        assert [t["id"] for t in listed.json()["data"]] == [own["id"]]
        assert_problem(await client.get(f"/v1/tickets/{other['id']}", headers=headers), 404)


async def test_visibility_follows_memberships_sharing_and_ccs_at_the_next_request(client):
    group = (await client.post("/v1/groups", json={"name": "APAC"}, headers=ADMIN)).json()["id"]
    agent, agent_headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    organization = await _org(client, False)
    alice, _ = await make_user_with_token(client, organization_id=organization)
    carol, carol_headers = await make_user_with_token(client, organization_id=organization)
    ticket = await make_ticket(client, requester_id=alice["id"], group_id=group)

    async def visible(headers):
        return (await client.get(f"/v1/tickets/{ticket['id']}", headers=headers)).status_code

    assert (await visible(agent_headers), await visible(carol_headers)) == (404, 404)
    await client.put(f"/v1/groups/{group}/members/{agent['id']}", headers=ADMIN)
    shared = await client.patch(
        f"/v1/organizations/{organization}", json={"shared_tickets": True}, headers=ADMIN
    )
    assert shared.status_code == 200, shared.text
    assert (await visible(agent_headers), await visible(carol_headers)) == (200, 200)

    await client.delete(f"/v1/groups/{group}/members/{agent['id']}", headers=ADMIN)
    await client.patch(
        f"/v1/organizations/{organization}", json={"shared_tickets": False}, headers=ADMIN
    )
    assert (await visible(agent_headers), await visible(carol_headers)) == (404, 404)
    added = await client.put(f"/v1/tickets/{ticket['id']}/ccs/{carol['id']}", headers=ADMIN)
    assert added.status_code == 204, added.text
    assert await visible(carol_headers) == 200
    listed = await client.get("/v1/tickets", headers=carol_headers)
    assert [t["id"] for t in listed.json()["data"]] == [ticket["id"]]


async def test_customer_ticket_representation_lists_only_public_fields(client, world):
    ticket = (
        await client.get(f"/v1/tickets/{world['ticket']['id']}", headers=world["requester"])
    ).json()
    assert set(ticket) == {
        "id", "subject", "requester_id", "organization_id", "status", "type", "channel",
        "created_at", "updated_at", "solved_at", "merged_into_id", "expected_first_reply_at",
        "custom_fields", "view",
    }  # fmt: skip
    # `view` tells generated clients which shape this is; it names no staff-only field.
    assert ticket["view"] == "customer"


async def test_every_ticket_shape_says_whose_view_it_is(client, world):
    staff = (await client.get(f"/v1/tickets/{world['ticket']['id']}", headers=ADMIN)).json()
    listed = (await client.get("/v1/tickets", headers=world["requester"])).json()["data"]
    assert staff["view"] == "staff"
    assert "priority" in staff
    assert [t["view"] for t in listed] == ["customer"] * len(listed)
    assert not any("priority" in t or "assignee_id" in t for t in listed)


async def test_private_note_attachment_names_do_not_leak_through_comment_lists(client, world):
    upload = await client.post(
        "/v1/attachments?filename=salary-review.pdf",
        content=b"%PDF-1.4 secret",
        headers={**ADMIN, "content-type": "application/pdf"},
    )
    assert upload.status_code == 201, upload.text
    note = await comment(
        client, world["ticket"]["id"], ADMIN, body="see file", public=False,
        attachment_ids=[upload.json()["id"]],
    )  # fmt: skip
    assert note.status_code == 201, note.text
    listed = await client.get(
        f"/v1/tickets/{world['ticket']['id']}/comments", headers=world["requester"]
    )
    assert "salary-review" not in listed.text
    download = await client.get(
        f"/v1/attachments/{upload.json()['id']}/content", headers=world["requester"]
    )
    assert_problem(download, 404)


async def test_deleted_organisation_with_tickets_is_refused_not_500(client):
    org = await _org(client, True)
    member = await make_user(client, organization_id=org)
    await make_ticket(client, requester_id=member["id"])
    response = await client.delete(f"/v1/organizations/{org}", headers=ADMIN)
    assert response.status_code in (204, 409), response.text


async def test_the_email_path_never_carries_a_private_note(client, database_url):
    """The outbox is a path to the customer too: with a mailbox to send from, a public reply
    is mailed, a private note never is, and no mail of the ticket holds the note's text."""
    mailbox = await client.post(
        "/v1/email-channels",
        json={"name": "Support", "address": "support@visibility.example.com"},
        headers=ADMIN,
    )
    assert mailbox.status_code == 201
    requester, _ = await make_user_with_token(client)
    ticket = await make_ticket(client, requester_id=requester["id"])
    await comment(client, ticket["id"], ADMIN, body=f"Note: {SECRET}", public=False)
    await comment(client, ticket["id"], ADMIN, body="We are on it.")
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT kind, raw FROM outbound_emails WHERE ticket_id = $1", ticket["id"]
        )
    finally:
        await connection.close()
    assert [r["kind"] for r in rows] == ["public_reply"]
    for row in rows:
        mail = message_from_bytes(row["raw"], policy=policy.default)
        texts = [p.get_content() for p in mail.walk() if p.get_content_maintype() == "text"]
        assert any("We are on it." in t for t in texts)  # decoded: the check can fail
        assert all(SECRET not in t for t in texts)


async def test_the_messaging_channel_path_never_carries_a_private_note(client, database_url):
    """A channel's outbox is a path to the customer too: an agent's public reply on a Telegram
    conversation is queued for sendMessage, a private note never is."""
    channel = await client.post(
        "/v1/channels",
        json={"kind": "telegram", "name": "Bot", "telegram_bot_token": "1:visibility"},
        headers=ADMIN,
    )
    assert channel.status_code == 201, channel.text
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 99, "type": "private"},
                    "from": {"id": 99, "is_bot": False, "first_name": "C"}, "text": "Hi"},
    }  # fmt: skip
    received = await client.post(
        f"/v1/channels/telegram/{channel.json()['id']}/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": channel.json()["secret"]},
    )
    ticket_id = received.json()["ticket_id"]
    await comment(client, ticket_id, ADMIN, body=f"Note: {SECRET}", public=False)
    await comment(client, ticket_id, ADMIN, body="We are on it.")
    connection = await asyncpg.connect(database_url)
    try:
        payloads = await connection.fetch(
            "SELECT payload FROM channel_deliveries WHERE ticket_id = $1", ticket_id
        )
    finally:
        await connection.close()
    assert [bytes(p["payload"]).decode() for p in payloads] == [
        '{"chat_id":"99","text":"We are on it."}'
    ]


async def test_agent_only_custom_fields_never_reach_customers(client):
    """Ticket reads, lists, searches, the customer's own writes' responses: the agent-only
    field's value is in none of them, and a customer cannot set it. (The event feed gives
    customers `{ticket_id, status_category}` only, and audits are staff-only.)"""
    for key, agent_only in (("order_ref", False), ("risk", True)):
        created = await client.post("/v1/ticket-fields", headers=ADMIN, json={
            "key": key, "title": key, "type": "text", "agent_only": agent_only})  # fmt: skip
        assert created.status_code == 201, created.text
    _, headers = await make_user_with_token(client)
    opened = await client.post("/v1/tickets", headers=headers, json={
        "subject": "Parcel", "comment": {"body": "Where is it?"},
        "custom_fields": {"order_ref": "A-1"}})  # fmt: skip
    assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["id"]
    assert opened.json()["custom_fields"] == {"order_ref": "A-1"}
    staff = await client.patch(f"/v1/tickets/{ticket_id}", headers=ADMIN,
                               json={"custom_fields": {"risk": SECRET}})  # fmt: skip
    assert staff.json()["custom_fields"] == {"order_ref": "A-1", "risk": SECRET}
    own = await client.patch(f"/v1/tickets/{ticket_id}", headers=headers,
                             json={"custom_fields": {"order_ref": "A-2"}})  # fmt: skip
    assert own.status_code == 200, own.text
    refused = await client.patch(f"/v1/tickets/{ticket_id}", headers=headers,
                                 json={"custom_fields": {"risk": "low"}})  # fmt: skip
    assert_problem(refused, 422)
    assert refused.json()["errors"][0]["loc"] == ["body", "custom_fields", "risk"]
    by_risk = await client.get("/v1/tickets", params={"custom_field": "risk:x"}, headers=headers)
    assert_problem(by_risk, 422)
    responses = [
        own,
        await client.get(f"/v1/tickets/{ticket_id}", headers=headers),
        await client.get("/v1/tickets", headers=headers),
        await client.get("/v1/tickets?q=parcel", headers=headers),
        await client.get("/v1/tickets", params={"custom_field": "order_ref:A-2"}, headers=headers),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert SECRET not in response.text
        assert "risk" not in response.text
    assert own.json()["custom_fields"] == {"order_ref": "A-2"}
    assert [t["id"] for t in responses[3].json()["data"]] == [ticket_id]
    assert [t["id"] for t in responses[4].json()["data"]] == [ticket_id]


async def test_customer_includes_name_only_the_requester_and_no_group(client):
    organization = await _org(client, shared=True)
    agent = await make_user(client, role="agent", name="Agent Zanzibar")
    group = await make_group(client, "Legal", agent["id"])
    requester, headers = await make_user_with_token(
        client, name="Rita", organization_id=organization, tags=["vip"]
    )
    ticket = await make_ticket(
        client, requester_id=requester["id"], assignee_id=agent["id"], group_id=group["id"]
    )
    include = "include=users,groups,organizations"
    for path in (f"/v1/tickets?{include}", f"/v1/tickets/{ticket['id']}?{include}"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["users"] == [{"id": requester["id"], "name": "Rita", "view": "customer"}]
        assert body["groups"] == []
        assert body["organizations"] == [{"id": organization, "name": "Org True"}]
        for hidden in ("Zanzibar", "Legal", "vip", requester["email"], "agent"):
            assert hidden not in response.text
    # The customer may not list by staff-only keys or look up by staff-only fields.
    for path in ("/v1/tickets?sort=assignee", "/v1/tickets/count?group_id=1"):
        assert_problem(await client.get(path, headers=headers), 403)

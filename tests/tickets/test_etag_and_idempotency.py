"""Optimistic concurrency on tickets (ETag / If-Match) and retry-safe creation."""

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.tickets.factories import audits, comment, get_ticket, make_ticket

BODY = {"subject": "Printer on fire", "comment": {"body": "It is on fire."}}


def keyed(key: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {**(headers or ADMIN), "Idempotency-Key": key}


# ETag / If-Match


async def test_get_ticket_returns_the_etag_of_create(client):
    created = await client.post("/v1/tickets", json=BODY, headers=ADMIN)

    response = await client.get(f"/v1/tickets/{created.json()['id']}", headers=ADMIN)

    assert response.status_code == 200
    assert response.headers["ETag"]
    assert response.headers["ETag"] == created.headers["ETag"]


async def test_customer_gets_an_etag_too(client):
    customer, customer_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, requester_id=customer["id"])

    response = await client.get(f"/v1/tickets/{ticket['id']}", headers=customer_headers)

    assert response.status_code == 200
    assert response.headers["ETag"]


async def test_patch_returns_a_new_etag_that_get_agrees_with(client):
    ticket = await make_ticket(client)
    before = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).headers["ETag"]

    patched = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"priority": "high"}, headers=ADMIN
    )

    assert patched.status_code == 200, patched.text
    assert patched.headers["ETag"] != before
    after = await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)
    assert after.headers["ETag"] == patched.headers["ETag"]


async def test_patch_with_current_if_match_succeeds(client):
    ticket = await make_ticket(client)
    etag = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).headers["ETag"]

    response = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"subject": "Renamed"},
        headers={**ADMIN, "If-Match": etag},
    )

    assert response.status_code == 200, response.text
    assert response.json()["subject"] == "Renamed"


async def test_patch_with_stale_if_match_is_412_and_changes_nothing(client):
    ticket = await make_ticket(client)
    stale = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).headers["ETag"]
    first = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"subject": "First edit"}, headers=ADMIN
    )
    assert first.status_code == 200, first.text
    before = await get_ticket(client, ticket["id"])

    response = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"subject": "Lost edit", "priority": "urgent", "comment": {"body": "Lost reply"}},
        headers={**ADMIN, "If-Match": stale},
    )

    assert_problem(response, 412)
    assert await get_ticket(client, ticket["id"]) == before
    assert len(await audits(client, ticket["id"])) == 2
    comments = await client.get(f"/v1/tickets/{ticket['id']}/comments", headers=ADMIN)
    assert "Lost reply" not in comments.text


async def test_a_new_comment_makes_the_etag_stale(client):
    ticket = await make_ticket(client)
    stale = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).headers["ETag"]
    reply = await comment(client, ticket["id"], ADMIN, body="On my way")
    assert reply.status_code == 201, reply.text

    response = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"priority": "low"},
        headers={**ADMIN, "If-Match": stale},
    )

    assert_problem(response, 412)
    assert (await get_ticket(client, ticket["id"]))["priority"] == "normal"


async def test_if_match_star_and_lists_are_honoured(client):
    ticket = await make_ticket(client)
    etag = (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).headers["ETag"]

    listed = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"priority": "low"},
        headers={**ADMIN, "If-Match": f'"ticket-0-v0", {etag}'},
    )
    star = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"priority": "high"},
        headers={**ADMIN, "If-Match": "*"},
    )

    assert listed.status_code == 200, listed.text
    assert star.status_code == 200, star.text


async def test_if_match_on_an_invisible_ticket_is_404_not_412(client):
    _, customer_headers = await make_user_with_token(client)
    ticket = await make_ticket(client)

    response = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"status_id": 1},
        headers={**customer_headers, "If-Match": '"stale"'},
    )

    assert_problem(response, 404)


# Idempotency-Key on POST /v1/tickets


async def test_same_key_twice_creates_one_ticket_and_replays_the_response(client):
    first = await client.post("/v1/tickets", json=BODY, headers=keyed("create-1"))
    second = await client.post("/v1/tickets", json=BODY, headers=keyed("create-1"))

    assert first.status_code == second.status_code == 201, second.text
    assert second.json() == first.json()
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    listing = await client.get("/v1/tickets", headers=ADMIN)
    assert [t["id"] for t in listing.json()["data"]] == [first.json()["id"]]


async def test_replay_does_not_add_a_second_first_comment_or_audit(client):
    first = await client.post("/v1/tickets", json=BODY, headers=keyed("create-1"))
    await client.post("/v1/tickets", json=BODY, headers=keyed("create-1"))

    ticket_id = first.json()["id"]
    comments = await client.get(f"/v1/tickets/{ticket_id}/comments", headers=ADMIN)
    assert len(comments.json()["data"]) == 1
    assert len(await audits(client, ticket_id)) == 1


async def test_same_key_other_body_is_422_and_creates_nothing(client):
    first = await client.post("/v1/tickets", json=BODY, headers=keyed("create-1"))
    other = {**BODY, "subject": "Another problem"}

    response = await client.post("/v1/tickets", json=other, headers=keyed("create-1"))

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    listing = await client.get("/v1/tickets", headers=ADMIN)
    assert [t["id"] for t in listing.json()["data"]] == [first.json()["id"]]


async def test_different_keys_create_different_tickets(client):
    first = await client.post("/v1/tickets", json=BODY, headers=keyed("create-1"))
    second = await client.post("/v1/tickets", json=BODY, headers=keyed("create-2"))

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


async def test_same_key_from_another_caller_is_their_own(client):
    _, agent_headers = await make_user_with_token(client, role="agent")
    first = await client.post("/v1/tickets", json=BODY, headers=keyed("shared"))

    second = await client.post("/v1/tickets", json=BODY, headers=keyed("shared", agent_headers))

    assert second.status_code == 201, second.text
    assert second.json()["id"] != first.json()["id"]
    assert "Idempotent-Replayed" not in second.headers


async def test_refused_create_is_not_stored_under_the_key(client):
    bad = {**BODY, "group_id": 999_999}
    refused = await client.post("/v1/tickets", json=bad, headers=keyed("create-1"))
    assert_problem(refused, 422)

    again = await client.post("/v1/tickets", json=BODY, headers=keyed("create-1"))

    assert again.status_code == 201, again.text
    assert "Idempotent-Replayed" not in again.headers


async def test_customer_create_with_key_replays(client):
    _, customer_headers = await make_user_with_token(client)
    body = {"subject": "Where is my order?", "comment": {"body": "Ordered last week."}}

    first = await client.post("/v1/tickets", json=body, headers=keyed("c-1", customer_headers))
    second = await client.post("/v1/tickets", json=body, headers=keyed("c-1", customer_headers))

    assert first.status_code == second.status_code == 201, second.text
    assert second.json() == first.json()
    mine = await client.get("/v1/tickets", headers=customer_headers)
    assert len(mine.json()["data"]) == 1


# Idempotency-Key on POST /v1/tickets/{id}/comments


async def test_comment_with_same_key_replays_and_adds_one_comment(client):
    ticket = await make_ticket(client)
    path = f"/v1/tickets/{ticket['id']}/comments"
    reply = {"body": "We are on it."}

    first = await client.post(path, json=reply, headers=keyed("reply-1"))
    second = await client.post(path, json=reply, headers=keyed("reply-1"))

    assert first.status_code == second.status_code == 201, second.text
    assert second.json() == first.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    comments = await client.get(path, headers=ADMIN)
    assert [c["body"] for c in comments.json()["data"]] == ["It is on fire.", "We are on it."]
    got = await get_ticket(client, ticket["id"])
    assert got["comment_count"] == 2
    assert len(await audits(client, ticket["id"])) == 2


async def test_comment_same_key_other_body_is_422(client):
    ticket = await make_ticket(client)
    path = f"/v1/tickets/{ticket['id']}/comments"
    first = await client.post(path, json={"body": "One"}, headers=keyed("reply-1"))
    assert first.status_code == 201, first.text

    response = await client.post(path, json={"body": "Two"}, headers=keyed("reply-1"))

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    comments = await client.get(path, headers=ADMIN)
    assert len(comments.json()["data"]) == 2


async def test_comment_key_on_another_ticket_is_another_request(client):
    first_ticket = await make_ticket(client)
    second_ticket = await make_ticket(client)
    reply = {"body": "Same words"}
    first = await client.post(
        f"/v1/tickets/{first_ticket['id']}/comments", json=reply, headers=keyed("reply-1")
    )
    assert first.status_code == 201, first.text

    response = await client.post(
        f"/v1/tickets/{second_ticket['id']}/comments", json=reply, headers=keyed("reply-1")
    )

    # The key names one request: reusing it for another path is a different request.
    assert_problem(response, 422)
    assert (await get_ticket(client, second_ticket["id"]))["comment_count"] == 1

"""POST /v1/users/{id}/merge: one person who reached us twice becomes one customer."""

from tests.factories import (
    ADMIN,
    assert_problem,
    bearer,
    feed_once_visible,
    make_token,
    make_user,
    make_user_with_token,
)
from tests.tickets.factories import audits, make_ticket


async def test_merge_folds_identities_tickets_ccs_and_organisation(client):
    org = await client.post("/v1/organizations", json={"name": "Acme"}, headers=ADMIN)
    assert org.status_code == 201, org.text
    target, target_headers = await make_user_with_token(client, email="ann@example.com")
    source, source_headers = await make_user_with_token(
        client,
        email="ann.private@example.org",
        identities=[{"kind": "telegram", "value": "ann_tg"}],
        organization_id=org.json()["id"],
        external_id="crm-ann",
    )
    other = await make_user(client)
    # A ticket of the source's, one the source is copied on (as is the target: kept once),
    # and one the target requested with the source copied (the CC would repeat the requester).
    own = await make_ticket(client, source_headers, subject="From Telegram")
    copied = await make_ticket(client, requester_id=other["id"])
    target_ticket = await make_ticket(client, target_headers, subject="From mail")
    for ticket_id, user_id in [
        (copied["id"], source["id"]),
        (copied["id"], target["id"]),
        (target_ticket["id"], source["id"]),
        (own["id"], target["id"]),
    ]:
        added = await client.put(f"/v1/tickets/{ticket_id}/ccs/{user_id}", headers=ADMIN)
        assert added.status_code in (200, 201, 204), added.text

    merged = await client.post(
        f"/v1/users/{target['id']}/merge", json={"source_id": source["id"]}, headers=ADMIN
    )
    assert merged.status_code == 200, merged.text
    user = merged.json()
    assert user["email"] == "ann@example.com"
    kinds = {(i["kind"], i["value"], i["is_primary"]) for i in user["identities"]}
    assert kinds == {
        ("email", "ann@example.com", True),
        ("email", "ann.private@example.org", False),
        ("telegram", "ann_tg", True),
    }
    assert (user["organization_id"], user["external_id"]) == (org.json()["id"], "crm-ann")

    moved = (await client.get(f"/v1/tickets/{own['id']}", headers=ADMIN)).json()
    assert moved["requester_id"] == target["id"]
    requester_audit = [
        a for a in await audits(client, own["id"]) if a["changes"][0]["field"] == "requester_id"
    ]
    assert requester_audit[0]["changes"][0] == {
        "field": "requester_id",
        "from": source["id"],
        "to": target["id"],
    }
    # The target's token now sees the source's ticket; the source's tokens are dead.
    assert (await client.get(f"/v1/tickets/{own['id']}", headers=target_headers)).status_code == 200
    assert (await client.get("/v1/me", headers=source_headers)).status_code == 401
    mine = (await client.get("/v1/tickets", headers=target_headers)).json()["data"]
    assert {t["id"] for t in mine} >= {own["id"], target_ticket["id"]}
    ccs = (await client.get(f"/v1/tickets/{copied['id']}/ccs", headers=ADMIN)).json()["data"]
    assert [c["user_id"] for c in ccs] == [target["id"]]
    for ticket_id in (target_ticket["id"], own["id"]):
        requested = (await client.get(f"/v1/tickets/{ticket_id}/ccs", headers=ADMIN)).json()
        assert requested["data"] == []

    loser = (await client.get(f"/v1/users/{source['id']}", headers=ADMIN)).json()
    assert (loser["is_active"], loser["identities"], loser["external_id"]) == (False, [], None)
    found = await client.get("/v1/users?identity=telegram:ann_tg", headers=ADMIN)
    assert [u["id"] for u in found.json()["data"]] == [target["id"]]

    events = await feed_once_visible(client, "/v1/events?type=user.merged", ADMIN)
    assert events[-1]["data"] == {
        "user_id": target["id"],
        "source_id": source["id"],
        "identity_ids": sorted(i["id"] for i in source["identities"]),
        "ticket_ids": [own["id"]],
    }
    # Staff-only: a customer's feed never carries it.
    customer_feed = await client.get("/v1/events?type=user.merged", headers=target_headers)
    assert customer_feed.status_code in (200, 403), customer_feed.text
    assert customer_feed.json().get("data", []) == []
    history = (await client.get(f"/v1/users/{source['id']}/audits", headers=ADMIN)).json()["data"]
    assert {"field": "merged_into", "from": None, "to": target["id"]} in history[0]["changes"]


async def test_merges_that_are_refused_change_nothing(client):
    customer, customer_headers = await make_user_with_token(client)
    other = await make_user(client)
    agent = await make_user(client, role="agent")
    ticket = await make_ticket(client, customer_headers)

    def merge(target_id, source_id, headers=ADMIN):
        return client.post(
            f"/v1/users/{target_id}/merge", json={"source_id": source_id}, headers=headers
        )

    assert_problem(await merge(customer["id"], customer["id"]), 422)
    assert_problem(await merge(customer["id"], 999_999_999), 422)
    assert_problem(await merge(999_999_999, customer["id"]), 404)
    assert_problem(await merge(customer["id"], agent["id"]), 409)
    assert_problem(await merge(agent["id"], customer["id"]), 409)
    assert_problem(await merge(other["id"], customer["id"], customer_headers), 403)
    bad = await client.post(
        f"/v1/users/{other['id']}/merge", json={"source_id": "x"}, headers=ADMIN
    )
    assert_problem(bad, 422)
    stale = await client.post(
        f"/v1/users/{other['id']}/merge",
        json={"source_id": customer["id"]},
        headers={**ADMIN, "If-Match": '"user-1-v999"'},
    )
    assert_problem(stale, 412)
    # Two external ids name two records elsewhere.
    await client.patch(f"/v1/users/{customer['id']}", json={"external_id": "a-1"}, headers=ADMIN)
    await client.patch(f"/v1/users/{other['id']}", json={"external_id": "b-2"}, headers=ADMIN)
    assert_problem(await merge(other["id"], customer["id"]), 409)
    # An anonymised (or merged, or deactivated) customer is neither source nor target.
    gone = await make_user(client)
    anonymised = await client.post(f"/v1/users/{gone['id']}/anonymize", headers=ADMIN)
    assert anonymised.status_code == 200
    assert_problem(await merge(other["id"], gone["id"]), 409)
    assert_problem(await merge(gone["id"], other["id"]), 409)

    # Nothing moved, and the customer's token still works.
    assert (await client.get(f"/v1/tickets/{ticket['id']}", headers=ADMIN)).json()[
        "requester_id"
    ] == customer["id"]
    assert (await client.get("/v1/me", headers=customer_headers)).status_code == 200
    # Merged once, the source cannot be merged again (inactive).
    fresh = await make_user(client)
    token = await make_token(client, fresh["id"])
    assert (await merge(customer["id"], fresh["id"])).status_code == 200
    assert_problem(await merge(other["id"], fresh["id"]), 409)
    assert (await client.get("/v1/me", headers=bearer(token))).status_code == 401

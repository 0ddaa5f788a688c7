"""Tickets name a product and the requester's asset: set by agents (checked, audited,
evented), matched on intake when there is no doubt (`via: auto_match`), suggested otherwise;
filtered by product; never shown to or settable by customers."""

from tests.factories import (
    ADMIN,
    assert_problem,
    feed_once_visible,
    make_user,
    make_user_with_token,
)
from tests.products.helpers import make_asset, make_product
from tests.tickets.factories import make_ticket


async def _audits(client, ticket_id):
    response = await client.get(f"/v1/tickets/{ticket_id}/audits", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_agents_set_product_and_asset_through_the_ticket_change(client):
    ann, ann_headers = await make_user_with_token(client)
    bob = await make_user(client)
    _, agent = await make_user_with_token(client, role="agent")
    router = await make_product(client, "Acme Router X1")
    phone = await make_product(client, "Acme Phone")
    anns = await make_asset(client, ann["id"], router["id"], serial_number="SN-1")
    await make_asset(client, ann["id"], phone["id"])
    bobs = await make_asset(client, bob["id"], router["id"], serial_number="SN-2")
    ticket = await make_ticket(client, ann_headers, subject="Help", comment={"body": "Broken."})
    assert ticket["view"] == "customer"
    assert "product_id" not in ticket
    staff_view = (await client.get(f"/v1/tickets/{ticket['id']}", headers=agent)).json()
    assert (staff_view["product_id"], staff_view["asset_id"]) == (None, None)  # two assets
    path = f"/v1/tickets/{ticket['id']}"

    # The asset implies its product.
    set_asset = await client.patch(path, json={"asset_id": anns["id"]}, headers=agent)
    assert set_asset.status_code == 200, set_asset.text
    assert (set_asset.json()["product_id"], set_asset.json()["asset_id"]) == (
        router["id"], anns["id"],
    )  # fmt: skip
    audit = (await _audits(client, ticket["id"]))[-1]
    assert audit["via"] == "api"
    assert {c["field"]: c["to"] for c in audit["changes"]} == {
        "product_id": router["id"], "asset_id": anns["id"],
    }  # fmt: skip
    [event] = await feed_once_visible(client, "/v1/events?type=ticket.updated", ADMIN)
    assert event["data"]["ticket"]["asset_id"] == anns["id"]
    assert {c["field"] for c in event["data"]["changes"]} == {"product_id", "asset_id"}

    # Bad input: another customer's asset, an unknown one, an asset of another product,
    # an unknown product; each a 422 that changes nothing.
    for body, loc in (
        ({"asset_id": bobs["id"]}, "asset_id"),
        ({"asset_id": 999999}, "asset_id"),
        ({"asset_id": anns["id"], "product_id": phone["id"]}, "product_id"),
        ({"product_id": 999999}, "product_id"),
        ({"product_id": phone["id"], "asset_id": bobs["id"], "subject": "Changed"}, "asset_id"),
    ):
        refused = await client.patch(path, json=body, headers=agent)
        assert assert_problem(refused, 422)["errors"][0]["loc"] == ["body", loc], body
    unchanged = (await client.get(path, headers=agent)).json()
    assert (unchanged["subject"], unchanged["asset_id"]) == ("Help", anns["id"])
    assert_problem(await client.patch(path, json={"product_id": "1"}, headers=agent), 422)

    # Customers neither set nor see them.
    for body in ({"product_id": router["id"]}, {"asset_id": anns["id"]}):
        assert_problem(await client.patch(path, json=body, headers=ann_headers), 403)
        new = {"subject": "Mine", "comment": {"body": "x"}, **body}
        assert_problem(await client.post("/v1/tickets", json=new, headers=ann_headers), 403)
    mine = await client.get(path, headers=ann_headers)
    assert "product_id" not in mine.json()
    assert "asset_id" not in mine.json()

    # Another product drops the asset; null product clears both.
    other = await client.patch(path, json={"product_id": phone["id"]}, headers=agent)
    assert (other.json()["product_id"], other.json()["asset_id"]) == (phone["id"], None)
    await client.patch(path, json={"asset_id": anns["id"]}, headers=agent)
    # A new requester who does not own the asset: the asset goes, the product stays.
    moved = await client.patch(path, json={"requester_id": bob["id"]}, headers=agent)
    assert (moved.json()["product_id"], moved.json()["asset_id"]) == (router["id"], None)
    cleared = await client.patch(path, json={"product_id": None}, headers=agent)
    assert (cleared.json()["product_id"], cleared.json()["asset_id"]) == (None, None)


async def test_intake_matches_the_requesters_asset_when_there_is_no_doubt(client):
    ann, ann_headers = await make_user_with_token(client)
    solo = await make_user(client)
    _, agent = await make_user_with_token(client, role="agent")
    router = await make_product(client, "Acme Router X1")
    phone = await make_product(client, "Acme Phone")
    watch = await make_product(client, "Zeta Watch")
    first = await make_asset(client, ann["id"], router["id"], serial_number="SN-1001",
                             order_number="ORD-500")  # fmt: skip
    second = await make_asset(client, ann["id"], router["id"], serial_number="SN-1002",
                              order_number="ORD-500")  # fmt: skip
    handset = await make_asset(client, ann["id"], phone["id"], order_number="ORD-777")
    only = await make_asset(client, solo["id"], watch["id"])

    async def opened(headers, subject, body, **extra):
        ticket = await make_ticket(client, headers, subject=subject, comment={"body": body},
                                   **extra)  # fmt: skip
        return (await client.get(f"/v1/tickets/{ticket['id']}", headers=agent)).json()

    # Exactly one asset: it.
    t = await opened(ADMIN, "Hello", "Something is wrong", requester_id=solo["id"])
    assert (t["product_id"], t["asset_id"]) == (watch["id"], only["id"])
    audit = (await _audits(client, t["id"]))[-1]
    assert audit["via"] == "auto_match"
    assert audit["actor_id"] is None
    # A serial number (whole word, case ignored).
    t = await opened(ann_headers, "Router dead", "Serial sn-1002, please help")
    assert (t["product_id"], t["asset_id"]) == (router["id"], second["id"])
    # An order number of two units of one product: the product, not a unit.
    t = await opened(ann_headers, "Order ORD-500", "One of them fails")
    assert (t["product_id"], t["asset_id"]) == (router["id"], None)
    # An order number of one asset.
    t = await opened(ann_headers, "About ORD-777", "Screen cracked")
    assert (t["product_id"], t["asset_id"]) == (phone["id"], handset["id"])
    # A product name they own once.
    t = await opened(ann_headers, "My acme phone", "It restarts")
    assert (t["product_id"], t["asset_id"]) == (phone["id"], handset["id"])
    # Not sure: nothing set; a serial number inside a longer one does not count; another
    # customer's product does not count.
    for subject in ("Help", "SN-10021 broke", "My Zeta Watch", "Acme Phone and Acme Router X1"):
        t = await opened(ann_headers, subject, "Please")
        assert (t["product_id"], t["asset_id"]) == (None, None), subject
    # The agent overrides what was matched.
    matched = await opened(ann_headers, "Router SN-1001", "Down")
    assert matched["asset_id"] == first["id"]
    fixed = await client.patch(
        f"/v1/tickets/{matched['id']}", json={"asset_id": second["id"]}, headers=agent
    )
    assert fixed.json()["asset_id"] == second["id"]
    assert [a["via"] for a in await _audits(client, matched["id"])][-2:] == ["auto_match", "api"]
    # Staff who name the product on creation are not second-guessed.
    named = await opened(ADMIN, "SN-1001", "x", requester_id=ann["id"], product_id=phone["id"])
    assert (named["product_id"], named["asset_id"]) == (phone["id"], None)
    given = await opened(ADMIN, "x", "y", requester_id=ann["id"], asset_id=second["id"])
    assert (given["product_id"], given["asset_id"]) == (router["id"], second["id"])
    refused = await client.post(
        "/v1/tickets",
        json={"subject": "x", "comment": {"body": "y"}, "requester_id": solo["id"],
              "asset_id": first["id"]},
        headers=ADMIN,
    )  # fmt: skip
    assert_problem(refused, 422)


async def test_suggestions_rank_what_the_text_names_and_lists_filter_by_product(client):
    ann, ann_headers = await make_user_with_token(client)
    _, agent = await make_user_with_token(client, role="agent")
    router = await make_product(client, "Acme Router X1")
    phone = await make_product(client, "Acme Phone")
    await make_asset(client, ann["id"], router["id"], serial_number="SN-1")
    handset = await make_asset(client, ann["id"], phone["id"], serial_number="PH-2000")
    extra = await make_asset(client, ann["id"], phone["id"], serial_number="PH-3000")
    ticket = await make_ticket(client, ann_headers, subject="Phone trouble",
                               comment={"body": "The acme phone PH-2000 restarts"})  # fmt: skip
    suggested = await client.get(f"/v1/tickets/{ticket['id']}/suggested-products", headers=agent)
    assert suggested.status_code == 200, suggested.text
    data = suggested.json()["data"]
    assert data[0]["asset"]["id"] == handset["id"]
    assert data[0]["reasons"] == ["serial_number", "product_name"]
    assert data[1]["asset"]["id"] == extra["id"]
    assert data[1]["reasons"] == ["product_name"]
    assert data[2]["reasons"] == []
    assert_problem(
        await client.get(f"/v1/tickets/{ticket['id']}/suggested-products", headers=ann_headers),
        403,
    )
    assert_problem(await client.get("/v1/tickets/999999/suggested-products", headers=agent), 404)

    # Filter by product, keyset pages in the list order.
    ids = []
    for n in range(3):
        made = await make_ticket(client, requester_id=ann["id"], subject=f"Case {n}",
                                 product_id=phone["id"])  # fmt: skip
        ids.append(made["id"])
    await make_ticket(client, requester_id=ann["id"], subject="Router", product_id=router["id"])
    seen, cursor = [], None
    while True:
        params = {"product_id": phone["id"], "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/tickets", params=params, headers=agent)).json()
        seen += [t["id"] for t in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([*ids, ticket["id"]])  # the matched one too
    assert seen == sorted(seen, reverse=True)
    assert_problem(
        await client.get(f"/v1/tickets?product_id={phone['id']}", headers=ann_headers), 403
    )
    # The ticket names the asset: deleting it is refused until the ticket lets go of it.
    assert_problem(
        await client.delete(f"/v1/users/{ann['id']}/assets/{handset['id']}", headers=agent), 409
    )

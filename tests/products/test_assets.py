"""Customers' assets: agents record and import them, an asset stays its customer's, bad
imports write nothing, customers never read them (staff-only)."""

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.products.helpers import make_asset, make_product


async def test_agents_record_edit_and_list_a_customers_assets(client):
    customer, customer_headers = await make_user_with_token(client)
    _, agent = await make_user_with_token(client, role="agent")
    _, light = await make_user_with_token(client, role="light_agent")
    router = await make_product(client, "Acme Router X1")
    phone = await make_product(client, "Acme Phone")
    path = f"/v1/users/{customer['id']}/assets"
    created = await client.post(
        path,
        json={"product_id": router["id"], "serial_number": "SN-1001", "order_number": "ORD-77",
              "purchase_date": "2026-01-15", "warranty_end": "2028-01-15"},
        headers=agent,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    asset = created.json()
    assert created.headers["location"] == f"{path}/{asset['id']}"
    assert asset["product"] == {"id": router["id"], "name": "Acme Router X1", "sku": router["sku"]}
    assert asset["user_id"] == customer["id"]
    assert asset["warranty_end"] == "2028-01-15"
    second = await make_asset(client, customer["id"], phone["id"], serial_number="P-1")

    listed = await client.get(f"{path}?limit=1", headers=light)
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["data"]] == [asset["id"]]
    rest = await client.get(f"{path}?cursor={listed.json()['next_cursor']}", headers=light)
    assert [a["id"] for a in rest.json()["data"]] == [second["id"]]
    by_product = await client.get(f"{path}?product_id={phone['id']}", headers=agent)
    assert [a["id"] for a in by_product.json()["data"]] == [second["id"]]

    one = await client.get(f"{path}/{asset['id']}", headers=agent)
    etag = one.headers["etag"]
    changed = await client.patch(
        f"{path}/{asset['id']}", json={"order_number": None}, headers={**agent, "If-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.json()["order_number"] is None
    assert_problem(
        await client.patch(
            f"{path}/{asset['id']}", json={"order_number": "X"}, headers={**agent, "If-Match": etag}
        ),
        412,
    )
    assert_problem(
        await client.patch(f"{path}/{asset['id']}", json={"warranty_end": "2020-01-01"},
                           headers=agent), 422,
    )  # fmt: skip
    # Light agents and customers do not write; customers do not read (their own either).
    assert_problem(await client.post(path, json={"product_id": phone["id"]}, headers=light), 403)
    assert_problem(await client.get(path, headers=customer_headers), 403)
    assert_problem(await client.get(f"{path}/{asset['id']}", headers=customer_headers), 403)
    assert_problem(await client.post(path, json={"product_id": phone["id"]},
                                     headers=customer_headers), 403)  # fmt: skip

    # Deleting: 204, then gone.
    deleted = await client.delete(f"{path}/{second['id']}", headers=agent)
    assert deleted.status_code == 204, deleted.text
    assert_problem(await client.get(f"{path}/{second['id']}", headers=agent), 404)


async def test_bad_assets_are_refused_and_write_nothing(client):
    ann, bob = await make_user(client), await make_user(client)
    agent = await make_user(client, role="agent")
    product = await make_product(client, "Acme Router X1")
    ann_path, bob_path = f"/v1/users/{ann['id']}/assets", f"/v1/users/{bob['id']}/assets"
    anns = await make_asset(client, ann["id"], product["id"], serial_number="SN-1",
                            external_id="erp-1")  # fmt: skip

    unknown = await client.post(ann_path, json={"product_id": 999999}, headers=ADMIN)
    assert assert_problem(unknown, 422)["errors"][0]["loc"] == ["body", "product_id"]
    for bad in ({}, {"product_id": "1"}, {"product_id": product["id"], "purchase_date": "soon"},
                {"product_id": product["id"], "purchase_date": "2026-02-01",
                 "warranty_end": "2026-01-01"},
                {"product_id": product["id"], "owner": ann["id"]}):  # fmt: skip
        assert_problem(await client.post(ann_path, json=bad, headers=ADMIN), 422)
    # Another customer's device (same product and serial), or external id: refused.
    assert_problem(
        await client.post(bob_path, json={"product_id": product["id"], "serial_number": "SN-1"},
                          headers=ADMIN), 409,
    )  # fmt: skip
    steal = await client.put(
        f"{bob_path}/upsert",
        json={"external_id": "erp-1", "product_id": product["id"], "serial_number": "SN-9"},
        headers=ADMIN,
    )
    assert_problem(steal, 409)
    # Another customer's asset through this customer's path: not found.
    assert_problem(await client.get(f"{bob_path}/{anns['id']}", headers=ADMIN), 404)
    assert_problem(
        await client.patch(f"{bob_path}/{anns['id']}", json={"serial_number": "x"},
                           headers=ADMIN), 404,
    )  # fmt: skip
    # Staff own no assets; unknown users have none.
    assert_problem(await client.get(f"/v1/users/{agent['id']}/assets", headers=ADMIN), 404)
    assert_problem(
        await client.post(f"/v1/users/{agent['id']}/assets", json={"product_id": product["id"]},
                          headers=ADMIN), 404,
    )  # fmt: skip
    assert_problem(await client.get("/v1/users/999999/assets", headers=ADMIN), 404)

    assert (await client.get(bob_path, headers=ADMIN)).json()["data"] == []
    anns_now = (await client.get(ann_path, headers=ADMIN)).json()["data"]
    assert [(a["id"], a["serial_number"]) for a in anns_now] == [(anns["id"], "SN-1")]


async def test_an_import_upserts_by_external_id(client):
    customer = await make_user(client)
    router = await make_product(client, "Acme Router X1")
    phone = await make_product(client, "Acme Phone")
    path = f"/v1/users/{customer['id']}/assets/upsert"
    body = {"external_id": "shop-42", "product_id": router["id"], "serial_number": "SN-42",
            "order_number": "ORD-1"}  # fmt: skip
    first = await client.put(path, json=body, headers=ADMIN)
    assert first.status_code == 201, first.text
    assert first.headers["location"].endswith(f"/assets/{first.json()['id']}")
    again = await client.put(path, json=body, headers=ADMIN)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    moved = await client.put(
        path, json={"external_id": "shop-42", "product_id": phone["id"]}, headers=ADMIN
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["product_id"] == phone["id"]
    assert moved.json()["serial_number"] is None  # a full replacement
    assert_problem(
        await client.put(path, json={"external_id": "shop-43", "product_id": 999999},
                         headers=ADMIN), 422,
    )  # fmt: skip
    assert_problem(await client.put(path, json={"product_id": router["id"]}, headers=ADMIN), 422)
    listed = (await client.get(f"/v1/users/{customer['id']}/assets", headers=ADMIN)).json()
    assert [a["external_id"] for a in listed["data"]] == ["shop-42"]


async def test_the_customer_overview_shows_the_products_owned_capped_and_linked(client):
    customer = await make_user(client)
    product = await make_product(client, "Acme Router X1")
    ids = [
        (await make_asset(client, customer["id"], product["id"], serial_number=f"S-{n}"))["id"]
        for n in range(11)
    ]
    overview = await client.get(f"/v1/users/{customer['id']}/overview", headers=ADMIN)
    assert overview.status_code == 200, overview.text
    part = overview.json()["products"]
    assert part["count"] == 11
    assert [a["id"] for a in part["assets"]] == ids[::-1][:10]
    assert part["assets"][0]["product"]["name"] == "Acme Router X1"
    assert part["more"] == f"/v1/users/{customer['id']}/assets"
    more = await client.get(part["more"], headers=ADMIN)
    assert len(more.json()["data"]) == 11


async def test_a_customer_merge_moves_their_assets_with_their_tickets(client):
    router = await make_product(client, "Router X1")
    source = await make_user(client, role="customer")
    keeper = await make_user(client, role="customer")
    asset = await make_asset(client, source["id"], router["id"], serial_number="SN-MERGE-1")
    ticket = await client.post(
        "/v1/tickets",
        json={"subject": "Router down", "comment": {"body": "It blinks red."},
              "requester_id": source["id"], "asset_id": asset["id"]},
        headers=ADMIN,
    )  # fmt: skip
    assert ticket.status_code == 201, ticket.text
    merged = await client.post(
        f"/v1/users/{keeper['id']}/merge", json={"source_id": source["id"]}, headers=ADMIN
    )
    assert merged.status_code == 200, merged.text
    owned = await client.get(f"/v1/users/{keeper['id']}/assets", headers=ADMIN)
    assert [a["id"] for a in owned.json()["data"]] == [asset["id"]]
    moved = (await client.get(f"/v1/tickets/{ticket.json()['id']}", headers=ADMIN)).json()
    assert (moved["requester_id"], moved["asset_id"]) == (keeper["id"], asset["id"])

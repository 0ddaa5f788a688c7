"""The product catalogue: admins write, staff read, customers nothing; SKUs unique; ETags;
keyset lists with filters; events for staff."""

from tests.factories import ADMIN, assert_problem, feed_once_visible, make_user_with_token
from tests.products.helpers import make_product


async def test_admins_keep_the_catalogue_and_agents_read_it(client):
    _, agent = await make_user_with_token(client, role="agent")
    _, customer = await make_user_with_token(client)
    created = await client.post(
        "/v1/products",
        json={"name": "Acme Router X1", "sku": "AR-X1", "category": "routers"},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    product = created.json()
    assert created.headers["location"] == f"/v1/products/{product['id']}"
    assert product["is_active"] is True
    etag = created.headers["etag"]

    read = await client.get(f"/v1/products/{product['id']}", headers=agent)
    assert read.status_code == 200
    assert read.headers["etag"] == etag
    assert_problem(await client.get("/v1/products", headers=customer), 403)
    assert_problem(await client.get(f"/v1/products/{product['id']}", headers=customer), 403)
    assert_problem(
        await client.post("/v1/products", json={"name": "X", "sku": "X"}, headers=agent), 403
    )
    assert_problem(
        await client.patch(f"/v1/products/{product['id']}", json={"name": "Y"}, headers=agent),
        403,
    )

    # SKUs are unique; bad input is a 422; stale If-Match a 412.
    dup = await client.post("/v1/products", json={"name": "Other", "sku": "AR-X1"}, headers=ADMIN)
    assert_problem(dup, 409)
    for bad in ({"name": "", "sku": "A"}, {"name": "A"}, {"name": "A", "sku": "B", "x": 1},
                {"name": "A", "sku": "B", "is_active": "yes"}):  # fmt: skip
        assert_problem(await client.post("/v1/products", json=bad, headers=ADMIN), 422)
    assert_problem(
        await client.patch(f"/v1/products/{product['id']}", json={"name": None}, headers=ADMIN),
        422,
    )
    changed = await client.patch(
        f"/v1/products/{product['id']}",
        json={"name": "Acme Router X1 Pro", "is_active": False, "category": None},
        headers={**ADMIN, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["category"] is None
    assert changed.headers["etag"] != etag
    stale = await client.patch(
        f"/v1/products/{product['id']}", json={"name": "Z"}, headers={**ADMIN, "If-Match": etag}
    )
    assert_problem(stale, 412)
    assert_problem(await client.get("/v1/products/999999", headers=ADMIN), 404)

    events = await feed_once_visible(client, "/v1/events?type=product.updated", agent)
    assert events[0]["data"]["product_id"] == product["id"]
    assert {c["field"] for c in events[0]["data"]["changes"]} == {"name", "is_active", "category"}
    customer_feed = await client.get("/v1/events?type=product.created", headers=customer)
    # Customers read no feed at all today; if they ever do, catalogue events stay staff's.
    assert customer_feed.status_code == 403 or customer_feed.json()["data"] == []


async def test_the_catalogue_lists_by_id_with_filters_one_page_at_a_time(client):
    ids = [
        (await make_product(client, f"Phone {n}", category="phones", is_active=n % 2 == 0))["id"]
        for n in range(5)
    ]
    await make_product(client, "Cable", category="cables")
    seen, cursor = [], None
    while True:
        query = "/v1/products?category=phones&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(query, headers=ADMIN)).json()
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    active = (await client.get("/v1/products?category=phones&is_active=true", headers=ADMIN)).json()
    assert [p["id"] for p in active["data"]] == ids[::2]
    sku = (await client.get("/v1/products", params={"sku": "SKU-nope"}, headers=ADMIN)).json()
    assert sku["data"] == []
    assert_problem(await client.get("/v1/products?limit=101", headers=ADMIN), 422)
    assert_problem(await client.get("/v1/products?cursor=garbage", headers=ADMIN), 422)

from tests.factories import ADMIN, assert_problem, make_user


async def _all_pages(client, path, limit):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        body = (await client.get(path, params=params, headers=ADMIN)).json()
        seen.extend(u["id"] for u in body["data"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages


async def test_every_row_exactly_once_while_rows_are_inserted_between_pages(client):
    for _ in range(7):
        await make_user(client)
    seen, cursor, inserted = [], None, []
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/v1/users", params=params, headers=ADMIN)).json()
        seen.extend(u["id"] for u in body["data"])
        inserted.append((await make_user(client))["id"])  # lands after the cursor
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    # Every row that existed at the start, and the rows inserted behind the reader, once each.
    assert seen == sorted(seen)
    assert set(range(1, 9)) <= set(seen)
    assert set(seen) - set(range(1, 9)) <= set(inserted)


async def test_default_and_maximum_limits(client):
    for _ in range(3):
        await make_user(client)
    seen, pages = await _all_pages(client, "/v1/users", 2)
    assert len(seen) == 4
    assert pages == 2
    assert_problem(await client.get("/v1/users?limit=101", headers=ADMIN), 422)
    assert_problem(await client.get("/v1/users?limit=0", headers=ADMIN), 422)
    assert (await client.get("/v1/users?limit=100", headers=ADMIN)).status_code == 200


async def test_bad_cursors_are_422(client):
    for cursor in [
        "not-base64!!",
        "e30",
        "eyJvIjoiaWQiLCJ2IjpbXX0",
        "%%%",
        "eyJvIjoieCIsInYiOlsxXX0",
    ]:
        body = assert_problem(
            await client.get("/v1/users", params={"cursor": cursor}, headers=ADMIN), 422
        )
        assert body["errors"][0]["loc"] == ["query", "cursor"]

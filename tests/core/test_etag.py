from tests.factories import ADMIN, assert_problem, make_user


async def test_patch_with_stale_if_match_is_412_and_changes_nothing(client):
    user = await make_user(client, role="agent")
    etag = (await client.get(f"/v1/users/{user['id']}", headers=ADMIN)).headers["etag"]
    first = await client.patch(
        f"/v1/users/{user['id']}", json={"name": "First"}, headers={**ADMIN, "If-Match": etag}
    )
    assert first.status_code == 200
    assert first.headers["etag"] != etag
    stale = await client.patch(
        f"/v1/users/{user['id']}", json={"name": "Second"}, headers={**ADMIN, "If-Match": etag}
    )
    assert_problem(stale, 412)
    assert (await client.get(f"/v1/users/{user['id']}", headers=ADMIN)).json()["name"] == "First"


async def test_matching_if_match_and_star_are_accepted(client):
    user = await make_user(client, role="agent")
    etag = (await client.get(f"/v1/users/{user['id']}", headers=ADMIN)).headers["etag"]
    ok = await client.patch(
        f"/v1/users/{user['id']}", json={"name": "A"}, headers={**ADMIN, "If-Match": f'"x", {etag}'}
    )
    assert ok.status_code == 200
    star = await client.patch(
        f"/v1/users/{user['id']}", json={"name": "B"}, headers={**ADMIN, "If-Match": "*"}
    )
    assert star.status_code == 200


async def test_delete_honours_if_match(client):
    user = await make_user(client, role="agent")
    assert_problem(
        await client.delete(f"/v1/users/{user['id']}", headers={**ADMIN, "If-Match": '"old"'}), 412
    )
    assert (await client.get(f"/v1/users/{user['id']}", headers=ADMIN)).json()["is_active"] is True
    assert (await client.delete(f"/v1/users/{user['id']}", headers=ADMIN)).status_code == 204
    assert (await client.get(f"/v1/users/{user['id']}", headers=ADMIN)).json()["is_active"] is False

"""Token lifecycle through the API: listing, revoking, expiry, capping, password changes."""

from datetime import timedelta

import pytest

from tests.factories import ADMIN, assert_problem, bearer, make_token, make_user
from tests.sla.helpers import clock, iso

__all__ = ["clock"]


async def _mint(client, user_id, headers, **body):
    response = await client.post(f"/v1/users/{user_id}/tokens", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _my_tokens(client, headers):
    response = await client.get("/v1/me/tokens", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_listing_shows_prefix_and_dates_but_never_the_secret(client, clock):
    user = await make_user(client, role="agent")
    first = await _mint(client, user["id"], ADMIN, name="laptop")
    second = await _mint(client, user["id"], ADMIN, name="ci")
    listed = await _my_tokens(client, bearer(first["token"]))
    assert [t["name"] for t in listed] == ["laptop", "ci"]
    assert set(listed[0]) == {
        "id", "name", "prefix", "created_at", "last_used_at", "expires_at", "acts_for_requesters",
    }  # fmt: skip
    assert listed[0]["prefix"] == first["token"][:10] == first["prefix"]
    assert listed[1]["prefix"] == second["token"][:10]
    assert listed[0]["last_used_at"] == iso(clock.now)
    assert listed[1]["last_used_at"] is None
    for token in (first, second):
        assert token["token"] not in str(listed)
        assert token["token"][10:] not in str(listed)
    by_admin = await client.get(f"/v1/users/{user['id']}/tokens", headers=ADMIN)
    assert by_admin.json()["data"] == listed


async def test_listing_pages_by_cursor(client):
    user = await make_user(client, role="agent")
    tokens = [await _mint(client, user["id"], ADMIN, name=f"t{n}") for n in range(3)]
    page = await client.get(f"/v1/users/{user['id']}/tokens?limit=2", headers=ADMIN)
    assert [t["id"] for t in page.json()["data"]] == [tokens[0]["id"], tokens[1]["id"]]
    rest = await client.get(
        f"/v1/users/{user['id']}/tokens",
        params={"limit": 2, "cursor": page.json()["next_cursor"]},
        headers=ADMIN,
    )
    assert [t["id"] for t in rest.json()["data"]] == [tokens[2]["id"]]
    assert rest.json()["next_cursor"] is None
    assert_problem(await client.get(f"/v1/users/{user['id']}/tokens?limit=101", headers=ADMIN), 422)


async def test_only_admins_list_other_users_tokens(client):
    user = await make_user(client, role="agent")
    headers = bearer(await make_token(client, user["id"]))
    assert_problem(await client.get(f"/v1/users/{user['id']}/tokens", headers=headers), 403)
    assert_problem(await client.get("/v1/users/999999/tokens", headers=ADMIN), 404)
    assert_problem(await client.get("/v1/me/tokens"), 401)


async def test_last_used_is_written_at_most_once_a_minute(client, clock):
    user = await make_user(client, role="agent")
    token = await make_token(client, user["id"])
    started = clock.now
    await client.get("/v1/me", headers=bearer(token))
    clock.advance(seconds=50)
    assert (await _my_tokens(client, bearer(token)))[0]["last_used_at"] == iso(started)
    clock.advance(seconds=11)
    assert (await _my_tokens(client, bearer(token)))[0]["last_used_at"] == iso(clock.now)


async def test_revoking_my_token_makes_it_401_and_another_users_is_404(client):
    user = await make_user(client, role="agent")
    other = await make_user(client, role="agent")
    mine = await _mint(client, user["id"], ADMIN)
    spare = await _mint(client, user["id"], ADMIN)
    theirs = await _mint(client, other["id"], ADMIN)
    headers = bearer(mine["token"])
    assert_problem(await client.delete(f"/v1/me/tokens/{theirs['id']}", headers=headers), 404)
    assert (await client.get("/v1/me", headers=bearer(theirs["token"]))).status_code == 200
    assert (await client.delete(f"/v1/me/tokens/{spare['id']}", headers=headers)).status_code == 204
    assert_problem(await client.get("/v1/me", headers=bearer(spare["token"])), 401)
    assert_problem(await client.delete(f"/v1/me/tokens/{spare['id']}", headers=headers), 404)
    # Revoking the calling token is a logout.
    assert (await client.delete(f"/v1/me/tokens/{mine['id']}", headers=headers)).status_code == 204
    assert_problem(await client.get("/v1/me", headers=headers), 401)


async def test_admin_revokes_a_users_token_only_under_that_user(client):
    user = await make_user(client, role="agent")
    other = await make_user(client, role="agent")
    token = await _mint(client, user["id"], ADMIN)
    assert_problem(
        await client.delete(f"/v1/users/{other['id']}/tokens/{token['id']}", headers=ADMIN), 404
    )
    assert_problem(
        await client.delete(f"/v1/users/999999/tokens/{token['id']}", headers=ADMIN), 404
    )
    agent = bearer((await _mint(client, other["id"], ADMIN))["token"])
    assert_problem(
        await client.delete(f"/v1/users/{user['id']}/tokens/{token['id']}", headers=agent), 403
    )
    response = await client.delete(f"/v1/users/{user['id']}/tokens/{token['id']}", headers=ADMIN)
    assert response.status_code == 204
    assert_problem(await client.get("/v1/me", headers=bearer(token["token"])), 401)
    assert await _my_tokens(client, bearer((await _mint(client, user["id"], ADMIN))["token"]))


async def test_a_token_expires(client, clock):
    user = await make_user(client, role="agent")
    expires = clock.now + timedelta(hours=2)
    token = await _mint(client, user["id"], ADMIN, expires_at=iso(expires))
    assert token["expires_at"] == iso(expires)
    headers = bearer(token["token"])
    clock.set(expires - timedelta(seconds=1))
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    clock.set(expires)
    body = assert_problem(await client.get("/v1/me", headers=headers), 401)
    assert "expired" in body["detail"]
    listed = await client.get(f"/v1/users/{user['id']}/tokens", headers=ADMIN)
    assert listed.json()["data"] == []


@pytest.mark.parametrize(
    ("expires_at", "kind"),
    [
        ("2026-11-23T08:59:59Z", "in_past"),
        ("2026-11-23T09:00:00Z", "in_past"),
        ("2027-11-24T09:00:01Z", "too_far_ahead"),
        ("2026-12-01T10:00:00", "timezone_aware"),
        ("1800000000", "value_error"),
        ("tomorrow", "value_error"),
    ],
)
async def test_bad_expiry_is_422_naming_the_field(client, clock, expires_at, kind):
    user = await make_user(client, role="agent")
    response = await client.post(
        f"/v1/users/{user['id']}/tokens", json={"expires_at": expires_at}, headers=ADMIN
    )
    error = assert_problem(response, 422)["errors"][0]
    assert error["loc"] == ["body", "expires_at"]
    assert error["type"] == kind
    listed = await client.get(f"/v1/users/{user['id']}/tokens", headers=ADMIN)
    assert listed.json()["data"] == []


async def test_a_token_made_with_a_token_never_outlives_it(client, clock):
    user = await make_user(client, role="agent")
    parent_expiry = clock.now + timedelta(hours=1)
    parent = await _mint(client, user["id"], ADMIN, expires_at=iso(parent_expiry))
    headers = bearer(parent["token"])
    later = await _mint(client, user["id"], headers, expires_at=iso(clock.now + timedelta(days=9)))
    unlimited = await _mint(client, user["id"], headers)
    sooner = await _mint(client, user["id"], headers, expires_at=iso(clock.now + timedelta(days=1)))
    assert later["expires_at"] == unlimited["expires_at"] == iso(parent_expiry)
    assert sooner["expires_at"] == iso(parent_expiry)
    earlier = clock.now + timedelta(minutes=5)
    assert (await _mint(client, user["id"], headers, expires_at=iso(earlier)))["expires_at"] == iso(
        earlier
    )
    clock.set(parent_expiry)
    assert_problem(await client.get("/v1/me", headers=bearer(unlimited["token"])), 401)


async def test_revoking_a_parent_leaves_its_children(client):
    user = await make_user(client, role="agent")
    parent = await _mint(client, user["id"], ADMIN)
    child = await _mint(client, user["id"], bearer(parent["token"]))
    response = await client.delete(f"/v1/users/{user['id']}/tokens/{parent['id']}", headers=ADMIN)
    assert response.status_code == 204
    assert (await client.get("/v1/me", headers=bearer(child["token"]))).status_code == 200


async def test_a_password_reset_revokes_every_token_of_the_user(client):
    user = await make_user(client, role="agent", password="old password")
    tokens = [await _mint(client, user["id"], ADMIN) for _ in range(2)]
    child = await _mint(client, user["id"], bearer(tokens[0]["token"]))
    response = await client.patch(
        f"/v1/users/{user['id']}", json={"password": "new password"}, headers=ADMIN
    )
    assert response.status_code == 200
    for token in (*tokens, child):
        assert_problem(await client.get("/v1/me", headers=bearer(token["token"])), 401)
    assert (await client.get("/v1/me", headers=ADMIN)).status_code == 200
    login = await client.post(
        "/v1/auth/token", json={"email": user["email"], "password": "new password"}
    )
    assert login.status_code == 201


async def test_changing_my_own_password_keeps_only_the_calling_token(client):
    me = (await client.get("/v1/me", headers=ADMIN)).json()
    other_session = await _mint(client, me["id"], ADMIN)
    response = await client.patch(
        f"/v1/users/{me['id']}", json={"password": "a new password"}, headers=ADMIN
    )
    assert response.status_code == 200
    assert (await client.get("/v1/me", headers=ADMIN)).status_code == 200
    assert_problem(await client.get("/v1/me", headers=bearer(other_session["token"])), 401)


async def test_other_changes_leave_tokens_alone(client):
    user = await make_user(client, role="agent")
    token = await make_token(client, user["id"])
    await client.patch(f"/v1/users/{user['id']}", json={"name": "Renamed"}, headers=ADMIN)
    assert (await client.get("/v1/me", headers=bearer(token))).status_code == 200

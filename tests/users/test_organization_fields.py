from typing import Any

import httpx

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token


async def make_org(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Acme")
    response = await client.post("/v1/organizations", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    org: dict[str, Any] = response.json()
    return org


async def test_customer_created_in_an_organisation(client):
    org = await make_org(client)
    user = await make_user(client, organization_id=org["id"])
    assert user["organization_id"] == org["id"]
    read = await client.get(f"/v1/users/{user['id']}", headers=ADMIN)
    assert read.json()["organization_id"] == org["id"]


async def test_unknown_organisation_is_422_naming_the_field(client):
    response = await client.post(
        "/v1/users", json={"name": "X", "organization_id": 999999}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "organization_id"]


async def test_organisation_id_must_be_an_integer(client):
    response = await client.post(
        "/v1/users", json={"name": "X", "organization_id": "1"}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "organization_id"]


async def test_staff_cannot_be_created_in_an_organisation(client):
    org = await make_org(client)
    response = await client.post(
        "/v1/users",
        json={"name": "X", "role": "agent", "organization_id": org["id"]},
        headers=ADMIN,
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "organization_id"]


async def test_patch_moves_and_removes_the_organisation(client):
    a = await make_org(client, name="A")
    b = await make_org(client, name="B")
    user = await make_user(client, organization_id=a["id"])
    path = f"/v1/users/{user['id']}"
    moved = await client.patch(path, json={"organization_id": b["id"]}, headers=ADMIN)
    assert moved.json()["organization_id"] == b["id"]
    untouched = await client.patch(path, json={"name": "Renamed"}, headers=ADMIN)
    assert untouched.json()["organization_id"] == b["id"]
    removed = await client.patch(path, json={"organization_id": None}, headers=ADMIN)
    assert removed.json()["organization_id"] is None


async def test_patch_to_unknown_organisation_is_422(client):
    user = await make_user(client)
    response = await client.patch(
        f"/v1/users/{user['id']}", json={"organization_id": 999999}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "organization_id"]


async def test_patch_putting_staff_into_an_organisation_is_422(client):
    org = await make_org(client)
    agent = await make_user(client, role="agent")
    response = await client.patch(
        f"/v1/users/{agent['id']}", json={"organization_id": org["id"]}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "organization_id"]


async def test_promoting_a_member_to_staff_needs_leaving_the_organisation(client):
    org = await make_org(client)
    user = await make_user(client, organization_id=org["id"])
    path = f"/v1/users/{user['id']}"
    refused = await client.patch(path, json={"role": "agent"}, headers=ADMIN)
    assert assert_problem(refused, 422)["errors"][0]["loc"] == ["body", "role"]
    promoted = await client.patch(
        path, json={"role": "agent", "organization_id": None}, headers=ADMIN
    )
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "agent"
    assert promoted.json()["organization_id"] is None


async def test_tags_are_normalised_deduplicated_and_ordered(client):
    user = await make_user(client, tags=["  VIP ", "#vip", "Key  Account", "beta"])
    assert user["tags"] == ["vip", "key_account", "beta"]


async def test_empty_tag_is_422_naming_the_item(client):
    response = await client.post(
        "/v1/users", json={"name": "X", "tags": ["vip", "  "]}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "tags", 1]


async def test_overlong_tag_is_422(client):
    response = await client.post(
        "/v1/users", json={"name": "X", "tags": ["x" * 101]}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "tags", 0]


async def test_patch_replaces_tags_and_omitting_them_keeps_them(client):
    user = await make_user(client, tags=["vip"])
    path = f"/v1/users/{user['id']}"
    kept = await client.patch(path, json={"name": "Other"}, headers=ADMIN)
    assert kept.json()["tags"] == ["vip"]
    replaced = await client.patch(path, json={"tags": ["Churn Risk"]}, headers=ADMIN)
    assert replaced.json()["tags"] == ["churn_risk"]
    cleared = await client.patch(path, json={"tags": []}, headers=ADMIN)
    assert cleared.json()["tags"] == []


async def test_patch_refuses_null_tags(client):
    user = await make_user(client)
    response = await client.patch(f"/v1/users/{user['id']}", json={"tags": None}, headers=ADMIN)
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "tags"]


async def test_me_carries_no_tags(client):
    _, customer = await make_user_with_token(client, tags=["vip"])
    response = await client.get("/v1/me", headers=customer)
    assert response.status_code == 200
    assert "tags" not in response.json()
    assert "vip" not in response.text


async def test_customer_with_listed_domain_joins_the_organisation(client):
    org = await make_org(client, domains=["acme.com"])
    user = await make_user(client, email="Jane@ACME.com")
    assert user["organization_id"] == org["id"]


async def test_domain_must_match_exactly_not_as_suffix(client):
    await make_org(client, domains=["acme.com"])
    user = await make_user(client, email="jane@mail.acme.com")
    assert user["organization_id"] is None


async def test_explicit_null_organisation_skips_the_domain_rule(client):
    await make_org(client, domains=["acme.com"])
    user = await make_user(client, email="jane@acme.com", organization_id=None)
    assert user["organization_id"] is None


async def test_explicit_organisation_wins_over_the_domain_rule(client):
    await make_org(client, name="A", domains=["acme.com"])
    b = await make_org(client, name="B")
    user = await make_user(client, email="jane@acme.com", organization_id=b["id"])
    assert user["organization_id"] == b["id"]


async def test_staff_with_listed_domain_do_not_join(client):
    await make_org(client, domains=["acme.com"])
    agent = await make_user(client, role="agent", email="agent@acme.com")
    assert agent["organization_id"] is None


async def test_domain_rule_applies_to_email_identities_too(client):
    org = await make_org(client, domains=["acme.com"])
    user = await make_user(
        client, email=None, identities=[{"kind": "email", "value": "jo@acme.com"}]
    )
    assert user["organization_id"] == org["id"]

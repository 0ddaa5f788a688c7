from typing import Any

import asyncpg
import httpx

from helpdesk_api.core.db import to_libpq_url
from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token


async def make_org(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Acme")
    response = await client.post("/v1/organizations", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    org: dict[str, Any] = response.json()
    return org


async def insert_ticket(database_url: str, *, requester_id: int, organization_id: int) -> int:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        status_id = await connection.fetchval(
            "SELECT id FROM ticket_statuses WHERE category = 'new' AND is_default"
        )
        ticket_id: int = await connection.fetchval(
            """
            INSERT INTO tickets (subject, requester_id, submitter_id, organization_id,
                                 status_id, status_category, priority, priority_rank, channel)
            VALUES ('Help', $1, $1, $2, $3, 'new', 'normal', 2, 'api') RETURNING id
            """,
            requester_id,
            organization_id,
            status_id,
        )
        return ticket_id
    finally:
        await connection.close()


async def test_admin_creates_organisation_and_reads_it_back(client):
    response = await client.post(
        "/v1/organizations",
        json={
            "name": "Acme Corp",
            "shared_tickets": True,
            "domains": ["Acme.COM", "acme.com", "mail.acme.co.uk"],
            "tags": ["#Enterprise", "key account", "enterprise"],
            "notes": "pays late",
            "external_id": "crm-1",
        },
        headers=ADMIN,
    )
    assert response.status_code == 201
    created = response.json()
    assert created["domains"] == ["acme.com", "mail.acme.co.uk"]
    assert created["tags"] == ["enterprise", "key_account"]
    assert response.headers["location"] == f"/v1/organizations/{created['id']}"
    read = await client.get(f"/v1/organizations/{created['id']}", headers=ADMIN)
    assert read.json() == created
    assert read.headers["etag"] == response.headers["etag"]


async def test_name_clash_ignoring_case_is_409(client):
    await make_org(client, name="Acme")
    assert_problem(
        await client.post("/v1/organizations", json={"name": "ACME"}, headers=ADMIN), 409
    )


async def test_renaming_onto_another_name_is_409(client):
    await make_org(client, name="Acme")
    other = await make_org(client, name="Other")
    response = await client.patch(
        f"/v1/organizations/{other['id']}", json={"name": "acme"}, headers=ADMIN
    )
    assert_problem(response, 409)


async def test_external_id_clash_is_409(client):
    await make_org(client, name="A", external_id="crm-1")
    response = await client.post(
        "/v1/organizations", json={"name": "B", "external_id": "crm-1"}, headers=ADMIN
    )
    assert_problem(response, 409)


async def test_domain_already_listed_on_another_organisation_is_409(client):
    await make_org(client, name="A", domains=["acme.com"])
    response = await client.post(
        "/v1/organizations", json={"name": "B", "domains": ["ACME.com"]}, headers=ADMIN
    )
    assert "acme.com" in assert_problem(response, 409)["detail"]


async def test_bad_domain_is_422_naming_the_item(client):
    for bad in ("user@acme.com", "https://acme.com", "acme", "-acme.com", "acme..com"):
        response = await client.post(
            "/v1/organizations", json={"name": "A", "domains": ["ok.com", bad]}, headers=ADMIN
        )
        body = assert_problem(response, 422)
        assert body["errors"][0]["loc"] == ["body", "domains", 1], bad


async def test_empty_tag_is_422_naming_the_item(client):
    response = await client.post(
        "/v1/organizations", json={"name": "A", "tags": ["ok", " # "]}, headers=ADMIN
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "tags", 1]


async def test_missing_name_and_unknown_fields_are_422(client):
    missing = await client.post("/v1/organizations", json={}, headers=ADMIN)
    assert assert_problem(missing, 422)["errors"][0]["loc"] == ["body", "name"]
    extra = await client.post("/v1/organizations", json={"name": "A", "nmae": 1}, headers=ADMIN)
    assert assert_problem(extra, 422)["errors"][0]["loc"] == ["body", "nmae"]


async def test_shared_tickets_must_be_a_real_boolean(client):
    response = await client.post(
        "/v1/organizations", json={"name": "A", "shared_tickets": 1}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "shared_tickets"]


async def test_non_admins_cannot_create_update_or_delete(client):
    org = await make_org(client)
    for role in ("agent", "light_agent", "customer"):
        _, headers = await make_user_with_token(client, role=role)
        path = f"/v1/organizations/{org['id']}"
        assert_problem(
            await client.post("/v1/organizations", json={"name": role}, headers=headers), 403
        )
        assert_problem(await client.patch(path, json={"name": "x"}, headers=headers), 403)
        assert_problem(await client.delete(path, headers=headers), 403)


async def test_staff_of_every_kind_may_list_and_read(client):
    org = await make_org(client, notes="internal")
    for role in ("agent", "light_agent"):
        _, headers = await make_user_with_token(client, role=role)
        listed = await client.get("/v1/organizations", headers=headers)
        assert [o["id"] for o in listed.json()["data"]] == [org["id"]]
        read = await client.get(f"/v1/organizations/{org['id']}", headers=headers)
        assert read.json()["notes"] == "internal"


async def test_customer_cannot_list_organisations(client):
    _, customer = await make_user_with_token(client)
    assert_problem(await client.get("/v1/organizations", headers=customer), 403)


async def test_customer_reads_own_organisation_without_notes(client):
    org = await make_org(client, notes="pays late")
    _, customer = await make_user_with_token(client, organization_id=org["id"])
    response = await client.get(f"/v1/organizations/{org['id']}", headers=customer)
    assert response.status_code == 200
    assert response.json()["notes"] is None
    assert "pays late" not in response.text


async def test_customer_reading_another_organisation_gets_404(client):
    mine = await make_org(client, name="Mine")
    other = await make_org(client, name="Other")
    _, customer = await make_user_with_token(client, organization_id=mine["id"])
    assert_problem(await client.get(f"/v1/organizations/{other['id']}", headers=customer), 404)


async def test_customer_without_organisation_gets_404(client):
    org = await make_org(client)
    _, customer = await make_user_with_token(client)
    assert_problem(await client.get(f"/v1/organizations/{org['id']}", headers=customer), 404)


async def test_customer_cannot_list_members(client):
    org = await make_org(client)
    _, customer = await make_user_with_token(client, organization_id=org["id"])
    response = await client.get(f"/v1/organizations/{org['id']}/members", headers=customer)
    assert_problem(response, 403)


async def test_unknown_organisation_is_404(client):
    assert_problem(await client.get("/v1/organizations/999999", headers=ADMIN), 404)
    assert_problem(await client.get("/v1/organizations/999999/members", headers=ADMIN), 404)
    assert_problem(
        await client.patch("/v1/organizations/999999", json={"name": "x"}, headers=ADMIN), 404
    )
    assert_problem(await client.delete("/v1/organizations/999999", headers=ADMIN), 404)


async def test_list_filters_by_name_prefix_ignoring_case(client):
    acme = await make_org(client, name="Acme Corp")
    await make_org(client, name="Beta")
    await make_org(client, name="Not Acme")
    response = await client.get("/v1/organizations", params={"q": "aCm"}, headers=ADMIN)
    assert [o["id"] for o in response.json()["data"]] == [acme["id"]]


async def test_name_prefix_treats_like_wildcards_literally(client):
    await make_org(client, name="Acme")
    response = await client.get("/v1/organizations", params={"q": "%"}, headers=ADMIN)
    assert response.json()["data"] == []


async def test_list_filters_by_tag_normalised(client):
    vip = await make_org(client, name="A", tags=["vip"])
    await make_org(client, name="B", tags=["other"])
    response = await client.get("/v1/organizations", params={"tag": "#VIP"}, headers=ADMIN)
    assert [o["id"] for o in response.json()["data"]] == [vip["id"]]


async def test_list_filters_by_external_id(client):
    await make_org(client, name="A", external_id="crm-1")
    b = await make_org(client, name="B", external_id="crm-2")
    response = await client.get("/v1/organizations", params={"external_id": "crm-2"}, headers=ADMIN)
    assert [o["id"] for o in response.json()["data"]] == [b["id"]]


async def test_list_paginates_by_cursor(client):
    ids = [(await make_org(client, name=f"Org {n}"))["id"] for n in range(5)]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/organizations", params=params, headers=ADMIN)).json()
        assert len(page["data"]) <= 2
        seen += [o["id"] for o in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


async def test_limit_above_maximum_is_422(client):
    response = await client.get("/v1/organizations", params={"limit": 101}, headers=ADMIN)
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["query", "limit"]


async def test_idempotent_create_replays_the_first_response(client):
    headers = {**ADMIN, "Idempotency-Key": "org-1"}
    first = await client.post("/v1/organizations", json={"name": "Acme"}, headers=headers)
    again = await client.post("/v1/organizations", json={"name": "Acme"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    listed = await client.get("/v1/organizations", headers=ADMIN)
    assert len(listed.json()["data"]) == 1


async def test_idempotency_key_reused_with_another_body_is_422(client):
    headers = {**ADMIN, "Idempotency-Key": "org-2"}
    await client.post("/v1/organizations", json={"name": "Acme"}, headers=headers)
    other = await client.post("/v1/organizations", json={"name": "Beta"}, headers=headers)
    assert_problem(other, 422)


async def test_patch_changes_only_given_fields_and_clears_nullable_ones(client):
    org = await make_org(client, name="Acme", notes="n", external_id="x", tags=["a"])
    response = await client.patch(
        f"/v1/organizations/{org['id']}",
        json={"notes": None, "external_id": None, "shared_tickets": True},
        headers=ADMIN,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["notes"] is None
    assert body["external_id"] is None
    assert body["shared_tickets"] is True
    assert body["name"] == "Acme"
    assert body["tags"] == ["a"]


async def test_patch_refuses_null_for_non_nullable_fields(client):
    org = await make_org(client)
    response = await client.patch(
        f"/v1/organizations/{org['id']}", json={"name": None}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "name"]


async def test_patch_with_stale_if_match_is_412(client):
    org = await make_org(client)
    path = f"/v1/organizations/{org['id']}"
    etag = (await client.get(path, headers=ADMIN)).headers["etag"]
    first = await client.patch(path, json={"name": "New"}, headers={**ADMIN, "If-Match": etag})
    assert first.status_code == 200
    assert first.headers["etag"] != etag
    stale = await client.patch(path, json={"name": "Newer"}, headers={**ADMIN, "If-Match": etag})
    assert_problem(stale, 412)
    assert (await client.get(path, headers=ADMIN)).json()["name"] == "New"


async def test_delete_with_stale_if_match_is_412(client):
    org = await make_org(client)
    path = f"/v1/organizations/{org['id']}"
    assert_problem(await client.delete(path, headers={**ADMIN, "If-Match": '"old"'}), 412)
    assert (await client.get(path, headers=ADMIN)).status_code == 200


async def test_delete_keeps_members_without_organisation(client):
    org = await make_org(client)
    member = await make_user(client, organization_id=org["id"])
    response = await client.delete(f"/v1/organizations/{org['id']}", headers=ADMIN)
    assert response.status_code == 204
    assert_problem(await client.get(f"/v1/organizations/{org['id']}", headers=ADMIN), 404)
    user = (await client.get(f"/v1/users/{member['id']}", headers=ADMIN)).json()
    assert user["is_active"] is True
    assert user["organization_id"] is None


async def test_delete_of_organisation_referenced_by_tickets_is_409(client, database_url):
    org = await make_org(client)
    member = await make_user(client, organization_id=org["id"])
    await insert_ticket(database_url, requester_id=member["id"], organization_id=org["id"])
    response = await client.delete(f"/v1/organizations/{org['id']}", headers=ADMIN)
    assert "ticket" in assert_problem(response, 409)["detail"]
    assert (await client.get(f"/v1/organizations/{org['id']}", headers=ADMIN)).status_code == 200


async def test_members_lists_only_this_organisations_users_paginated(client):
    org = await make_org(client, name="A")
    other = await make_org(client, name="B")
    members = [(await make_user(client, organization_id=org["id"]))["id"] for _ in range(3)]
    await make_user(client, organization_id=other["id"])
    await make_user(client)
    path = f"/v1/organizations/{org['id']}/members"
    first = (await client.get(path, params={"limit": 2}, headers=ADMIN)).json()
    second = (
        await client.get(path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=ADMIN)
    ).json()
    assert [u["id"] for u in first["data"] + second["data"]] == members
    assert second["next_cursor"] is None
    assert first["data"][0]["organization_id"] == org["id"]


async def test_changes_are_recorded_as_events(client, database_url):
    org = await make_org(client, notes="secret")
    await client.patch(
        f"/v1/organizations/{org['id']}", json={"notes": "still secret"}, headers=ADMIN
    )
    await client.delete(f"/v1/organizations/{org['id']}", headers=ADMIN)
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT type, data::text AS data FROM events "
            "WHERE type LIKE 'organization.%' ORDER BY id"
        )
    finally:
        await connection.close()
    assert [r["type"] for r in rows] == [
        "organization.created",
        "organization.updated",
        "organization.deleted",
    ]
    assert "still secret" not in rows[1]["data"]

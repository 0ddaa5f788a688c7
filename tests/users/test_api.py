from tests.factories import ADMIN, assert_problem, bearer, make_user, make_user_with_token


async def test_admin_creates_user_and_reads_it_back(client):
    response = await client.post(
        "/v1/users",
        json={"name": "Ann Agent", "email": "Ann@Example.COM", "role": "agent"},
        headers=ADMIN,
    )
    assert response.status_code == 201
    created = response.json()
    assert created["email"] == "ann@example.com"
    assert response.headers["location"] == f"/v1/users/{created['id']}"
    read = await client.get(f"/v1/users/{created['id']}", headers=ADMIN)
    assert read.json() == created
    assert read.headers["etag"] == response.headers["etag"]


async def test_email_identity_is_unique_case_insensitively(client):
    await make_user(client, email="dup@example.com")
    response = await client.post(
        "/v1/users", json={"name": "Again", "email": "DUP@example.com"}, headers=ADMIN
    )
    assert_problem(response, 409)


async def test_agents_create_customers_but_not_staff(client):
    _, agent = await make_user_with_token(client, role="agent")
    response = await client.post("/v1/users", json={"name": "X"}, headers=agent)
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "customer"
    for role in ("agent", "admin", "light_agent"):
        body = {"name": "Y", "role": role}
        assert_problem(await client.post("/v1/users", json=body, headers=agent), 403)
    _, light = await make_user_with_token(client, role="light_agent")
    assert_problem(await client.post("/v1/users", json={"name": "Z"}, headers=light), 403)


async def test_customer_sees_only_themselves(client):
    me, customer = await make_user_with_token(client)
    other = await make_user(client)
    assert (await client.get(f"/v1/users/{me['id']}", headers=customer)).status_code == 200
    assert_problem(await client.get(f"/v1/users/{other['id']}", headers=customer), 404)
    assert_problem(await client.get("/v1/users", headers=customer), 403)


async def test_customer_never_sees_staff_notes_on_themselves(client):
    me = await make_user(client, notes="difficult customer")
    _, customer = (
        me,
        bearer(
            (await client.post(f"/v1/users/{me['id']}/tokens", json={}, headers=ADMIN)).json()[
                "token"
            ]
        ),
    )
    response = await client.get(f"/v1/users/{me['id']}", headers=customer)
    assert "difficult" not in response.text
    me_response = await client.get("/v1/me", headers=customer)
    assert "difficult" not in me_response.text


async def test_deactivating_a_user_revokes_their_tokens(client):
    user, headers = await make_user_with_token(client, role="agent")
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    response = await client.patch(
        f"/v1/users/{user['id']}", json={"is_active": False}, headers=ADMIN
    )
    assert response.status_code == 200
    assert_problem(await client.get("/v1/me", headers=headers), 401)
    # Reactivation does not resurrect the old token.
    await client.patch(f"/v1/users/{user['id']}", json={"is_active": True}, headers=ADMIN)
    assert_problem(await client.get("/v1/me", headers=headers), 401)


async def test_password_login_issues_a_working_token(client):
    await make_user(client, role="agent", email="login@example.com", password="correct horse")
    response = await client.post(
        "/v1/auth/token", json={"email": "LOGIN@example.com", "password": "correct horse"}
    )
    assert response.status_code == 201
    token = response.json()["token"]
    me = await client.get("/v1/me", headers=bearer(token))
    assert me.json()["email"] == "login@example.com"


async def test_wrong_password_and_unknown_email_look_the_same(client):
    await make_user(client, email="pw@example.com", password="right password")
    wrong = await client.post(
        "/v1/auth/token", json={"email": "pw@example.com", "password": "nope"}
    )
    unknown = await client.post(
        "/v1/auth/token", json={"email": "no@example.com", "password": "nope"}
    )
    assert assert_problem(wrong, 401)["detail"] == assert_problem(unknown, 401)["detail"]


async def test_identities_are_normalised_and_unique_per_kind(client):
    user = await make_user(client, identities=[{"kind": "telegram", "value": "@Ann_Support"}])
    assert {"kind": "telegram", "value": "ann_support"}.items() <= user["identities"][-1].items()
    clash = await client.post(
        f"/v1/users/{user['id']}/identities",
        json={"kind": "telegram", "value": "ANN_SUPPORT"},
        headers=ADMIN,
    )
    assert_problem(clash, 409)
    phone = await client.post(
        f"/v1/users/{user['id']}/identities",
        json={"kind": "phone", "value": "+39 (02) 1234-5678"},
        headers=ADMIN,
    )
    assert phone.status_code == 201
    assert phone.json()["value"] == "+390212345678"


async def test_bad_identity_value_is_422_naming_the_field(client):
    response = await client.post(
        "/v1/users",
        json={"name": "X", "identities": [{"kind": "phone", "value": "call me"}]},
        headers=ADMIN,
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "identities", 0, "value"]


async def test_unknown_fields_are_refused(client):
    response = await client.post("/v1/users", json={"name": "X", "rol": "admin"}, headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "rol"]


async def test_user_can_mint_own_token_but_not_others(client):
    me, headers = await make_user_with_token(client, role="agent")
    other = await make_user(client, role="agent")
    mine = await client.post(f"/v1/users/{me['id']}/tokens", json={"name": "cli"}, headers=headers)
    assert mine.status_code == 201
    assert mine.json()["token"].startswith("hd_")
    assert_problem(
        await client.post(f"/v1/users/{other['id']}/tokens", json={}, headers=headers), 403
    )


async def test_cannot_deactivate_yourself(client):
    me = (await client.get("/v1/me", headers=ADMIN)).json()
    response = await client.patch(f"/v1/users/{me['id']}", json={"is_active": False}, headers=ADMIN)
    assert_problem(response, 422)


async def test_customer_reading_themselves_gets_no_staff_fields(client):
    org = await client.post("/v1/organizations", json={"name": "Acme"}, headers=ADMIN)
    me, headers = await make_user_with_token(
        client, notes="prefers phone", tags=["vip"], organization_id=org.json()["id"]
    )
    for path in (f"/v1/users/{me['id']}", "/v1/me"):
        body = (await client.get(path, headers=headers)).json()
        assert body["organization_id"] == org.json()["id"]
        assert "tags" not in body
        assert "notes" not in body

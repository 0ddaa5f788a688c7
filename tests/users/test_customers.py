"""Customers: found by a few letters or a misspelling, by identity or external id; synced by
upsert (never taking another user's identity); kept up to date by agents; every change in
the user's audit trail."""

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token


async def _ids(client, query, headers=ADMIN):
    response = await client.get(f"/v1/users?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [u["id"] for u in response.json()["data"]]


async def test_search_by_prefix_misspelling_identity_and_external_id(client):
    ilona = await make_user(
        client,
        name="Ilona Kovács",
        email="ilona.kovacs@example.hu",
        identities=[{"kind": "phone", "value": "+36 30 123 4567"}],
        external_id="crm-1001",
    )
    ilka = await make_user(client, name="Ilka Nagy", email="nagy@example.hu")
    await make_user(client, name="Zoltán Szabó", email="zoltan@example.hu")

    assert await _ids(client, "q=ilo") == [ilona["id"]]  # name prefix
    assert set(await _ids(client, "q=Il")) == {ilona["id"], ilka["id"]}
    assert await _ids(client, "q=Ilona%20Kovacs") == [ilona["id"]]  # fuzzy: no accent
    assert await _ids(client, "q=ilona.kovac") == [ilona["id"]]  # e-mail prefix
    assert await _ids(client, "q=%2B36%2030%20123") == [ilona["id"]]  # phone, as written
    assert await _ids(client, "q=nagy@") == [ilka["id"]]
    assert await _ids(client, "q=qqqqqq") == []
    assert await _ids(client, "q=%25") == []  # LIKE wildcards are plain characters
    # Best first: a prefix beats a likeness.
    ranked = await _ids(client, "q=ilka%20nag")
    assert ranked[0] == ilka["id"]
    # Keyset pages over ranked results: no repeats, nothing skipped.
    first = (await client.get("/v1/users?q=il&limit=1", headers=ADMIN)).json()
    second = (
        await client.get(f"/v1/users?q=il&limit=1&cursor={first['next_cursor']}", headers=ADMIN)
    ).json()
    assert {first["data"][0]["id"], second["data"][0]["id"]} == {ilona["id"], ilka["id"]}

    assert await _ids(client, "identity=email:ILONA.KOVACS@example.hu") == [ilona["id"]]
    assert await _ids(client, "identity=phone:%2B36-30-123-4567") == [ilona["id"]]
    assert await _ids(client, "identity=email:nobody@example.hu") == []
    assert await _ids(client, "external_id=crm-1001") == [ilona["id"]]
    for bad in ("identity=fax:123", "identity=email", "identity=phone:abc", "q="):
        assert_problem(await client.get(f"/v1/users?{bad}", headers=ADMIN), 422)
    _, customer = await make_user_with_token(client)
    assert_problem(await client.get("/v1/users?q=ilo", headers=customer), 403)
    # external_id is unique.
    taken = await client.post(
        "/v1/users", json={"name": "X", "external_id": "crm-1001"}, headers=ADMIN
    )
    assert_problem(taken, 409)


async def test_upsert_creates_updates_and_never_steals(client):
    _, agent = await make_user_with_token(client, role="agent")
    body = {"external_id": "shop-7", "email": "Maria@example.ro", "name": "Maria Pop"}
    created = await client.put("/v1/users/upsert", json=body, headers=agent)
    assert created.status_code == 201, created.text
    maria = created.json()
    assert (maria["external_id"], maria["email"], maria["role"]) == (
        "shop-7", "maria@example.ro", "customer",
    )  # fmt: skip
    # By external id: new name and a phone; the e-mail is already hers.
    updated = await client.put(
        "/v1/users/upsert",
        json={
            **body,
            "name": "Maria Popescu",
            "identities": [{"kind": "phone", "value": "+40 721 000 111"}],
        },
        headers=agent,
    )  # fmt: skip
    assert updated.status_code == 200, updated.text
    assert updated.json()["id"] == maria["id"]
    assert updated.json()["name"] == "Maria Popescu"
    assert {i["kind"] for i in updated.json()["identities"]} == {"email", "phone"}
    # By e-mail, for a customer without an external id: it gets one.
    other = await make_user(client, name="Ion", email="ion@example.ro")
    linked = await client.put(
        "/v1/users/upsert", json={"email": "ion@example.ro", "external_id": "shop-8"}, headers=agent
    )
    assert (linked.status_code, linked.json()["id"]) == (200, other["id"])

    staff = await make_user(client, role="agent", email="staff@example.ro")
    refused = [
        # external id of one user, e-mail of another
        {"external_id": "shop-7", "email": "ion@example.ro"},
        # an identity another customer holds
        {"external_id": "shop-7", "identities": [{"kind": "email", "value": "ion@example.ro"}]},
        # a staff record
        {"email": "staff@example.ro", "name": "Renamed"},
        # a user with another external id
        {"email": "ion@example.ro", "external_id": "shop-9"},
    ]
    for attempt in refused:
        assert_problem(await client.put("/v1/users/upsert", json=attempt, headers=agent), 409)
    assert_problem(
        await client.put("/v1/users/upsert", json={"name": "No key"}, headers=agent), 422
    )
    assert_problem(
        await client.put("/v1/users/upsert", json={"email": "new@example.ro"}, headers=agent), 422
    )  # creating needs a name
    unchanged = (await client.get(f"/v1/users/{maria['id']}", headers=ADMIN)).json()
    assert unchanged["name"] == "Maria Popescu"
    assert unchanged["email"] == "maria@example.ro"
    assert (await client.get(f"/v1/users/{staff['id']}", headers=ADMIN)).json()["name"] != "Renamed"


async def test_agents_edit_customers_not_staff_and_every_change_is_audited(client):
    agent, agent_headers = await make_user_with_token(client, role="agent")
    customer = await make_user(client, name="Old Name")
    colleague = await make_user(client, role="agent")
    path = f"/v1/users/{customer['id']}"
    renamed = await client.patch(
        path, json={"name": "New Name", "notes": "VIP"}, headers=agent_headers
    )
    assert renamed.status_code == 200, renamed.text
    added = await client.post(
        f"{path}/identities", json={"kind": "telegram", "value": "@newname"}, headers=agent_headers
    )
    assert added.status_code == 201, added.text
    removed = await client.delete(f"{path}/identities/{added.json()['id']}", headers=agent_headers)
    assert removed.status_code == 204
    for refused in ({"role": "agent"}, {"password": "correct horse battery"}):
        assert_problem(await client.patch(path, json=refused, headers=agent_headers), 403)
    staff_path = f"/v1/users/{colleague['id']}"
    assert_problem(await client.patch(staff_path, json={"name": "X"}, headers=agent_headers), 403)
    assert_problem(
        await client.post(f"{staff_path}/identities", json={"kind": "telegram", "value": "x"},
                          headers=agent_headers),
        403,
    )  # fmt: skip

    audits = (await client.get(f"{path}/audits", headers=agent_headers)).json()["data"]
    assert [a["action"] for a in audits] == ["updated", "updated", "updated", "created"]
    assert audits[-1]["actor_id"] is None or audits[-1]["actor_id"] != agent["id"]
    assert {a["actor_id"] for a in audits[:3]} == {agent["id"]}
    assert audits[0]["changes"] == [{"field": "identities", "from": "telegram:newname", "to": None}]
    fields = {c["field"] for c in audits[2]["changes"]}
    assert fields == {"name", "notes"}
    _, customer_headers = await make_user_with_token(client)
    assert_problem(await client.get(f"{path}/audits", headers=customer_headers), 403)
    assert_problem(await client.get("/v1/users/999999/audits", headers=ADMIN), 404)


async def test_search_ranks_prefixes_before_likenesses_across_pages(client):
    """Only a few hundred candidates are ranked, yet the order is the promised one: name or
    identity prefixes first (ties by id), then the more similar before the less."""
    by_name = await make_user(client, name="Rossi Marta", email="m1@example.it")
    by_email = await make_user(client, name="Zeno Q", email="rossi.z@example.it")
    closer = await make_user(client, name="Ann Rossi", email="a1@example.it")  # 0.6
    further = await make_user(client, name="Rossa", email="r1@example.it")  # 0.5
    await make_user(client, name="Bianca Verdi", email="b1@example.it")
    expected = [by_name["id"], by_email["id"], closer["id"], further["id"]]
    assert await _ids(client, "q=rossi") == expected
    seen, cursor = [], ""
    while True:
        page = (await client.get(f"/v1/users?q=rossi&limit=1{cursor}", headers=ADMIN)).json()
        seen += [u["id"] for u in page["data"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == expected

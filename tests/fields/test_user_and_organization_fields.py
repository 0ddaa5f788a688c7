"""User and organisation fields: the ticket fields' definitions and validation, on users and
organisations."""

from tests.factories import ADMIN, assert_problem, feed_once_visible, make_user_with_token
from tests.fields.helpers import error_locs, make_field


async def test_user_fields_validate_audit_and_stay_with_staff(client):
    await make_field(client, "user", key="contract", type="dropdown",
                     options=[{"value": "gold", "title": "Gold"}])  # fmt: skip
    await make_field(client, "user", key="seats", type="integer")
    refused = await client.post("/v1/user-fields", headers=ADMIN, json={
        "key": "k", "title": "K", "type": "text", "required_for": ["solved"]})  # fmt: skip
    assert error_locs(refused) == [["body", "required_for"]]

    created = await client.post(
        "/v1/users",
        headers=ADMIN,
        json={"name": "Ann", "email": "ann@example.com", "custom_fields": {"contract": "gold"}},
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["custom_fields"] == {"contract": "gold"}
    bad = await client.post("/v1/users", headers=ADMIN, json={
        "name": "Bob", "custom_fields": {"seats": "many"}})  # fmt: skip
    assert error_locs(bad) == [["body", "custom_fields", "seats"]]
    # A ticket field is not a user field.
    await make_field(client, key="ticket_only", type="text")
    wrong_kind = await client.patch(f"/v1/users/{user['id']}", headers=ADMIN,
                                    json={"custom_fields": {"ticket_only": "x"}})  # fmt: skip
    assert error_locs(wrong_kind) == [["body", "custom_fields", "ticket_only"]]
    changed = await client.patch(
        f"/v1/users/{user['id']}",
        headers=ADMIN,
        json={"custom_fields": {"seats": 3, "contract": None}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["custom_fields"] == {"seats": 3}
    events = await feed_once_visible(client, "/v1/events?type=user.updated", ADMIN)
    assert {"field": "custom_fields.seats", "from": None, "to": 3} in events[-1]["data"]["changes"]

    _, headers = await make_user_with_token(client)
    me = await client.get("/v1/me", headers=headers)
    assert "custom_fields" not in me.json()


async def test_organization_fields_hide_agent_only_values_from_members(client):
    await make_field(client, "organization", key="tier", type="text")
    await make_field(client, "organization", key="churn_risk", type="text", agent_only=True)
    created = await client.post("/v1/organizations", headers=ADMIN, json={
        "name": "Acme", "custom_fields": {"tier": "gold", "churn_risk": "high"}})  # fmt: skip
    assert created.status_code == 201, created.text
    org = created.json()
    assert org["custom_fields"] == {"tier": "gold", "churn_risk": "high"}
    bad = await client.patch(f"/v1/organizations/{org['id']}", headers=ADMIN,
                             json={"custom_fields": {"tier": 5}})  # fmt: skip
    assert error_locs(bad) == [["body", "custom_fields", "tier"]]
    _, member = await make_user_with_token(client, organization_id=org["id"])
    seen = await client.get(f"/v1/organizations/{org['id']}", headers=member)
    assert seen.status_code == 200, seen.text
    assert seen.json()["custom_fields"] == {"tier": "gold"}
    assert "high" not in seen.text
    assert_problem(await client.get("/v1/organization-fields", headers=member), 403)

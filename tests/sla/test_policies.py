"""`/v1/sla-policies`: ordered policies with targets per priority and metric."""

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.sla.helpers import make_calendar, make_policy, target, ticket_sla
from tests.tickets.factories import make_group, make_ticket


async def test_admin_creates_a_policy_with_conditions_and_targets(client):
    calendar = await make_calendar(client)
    group = await make_group(client, "Tier 2")
    response = await client.post(
        "/v1/sla-policies",
        json={
            "name": "VIP",
            "position": 1,
            "calendar_id": calendar["id"],
            "conditions": {"priority": ["urgent"], "group_id": [group["id"]],
                           "tags": ["VIP"], "channel": ["email"], "type": ["incident"]},
            "targets": [{"priority": "urgent", "metric": "first_reply", "minutes": 60,
                         "business_hours": True}],
        },
        headers=ADMIN,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/sla-policies/{body['id']}"
    assert body["conditions"] == {
        "priority": ["urgent"], "group_id": [group["id"]], "organization_id": [],
        "tags": ["vip"], "channel": ["email"], "type": ["incident"],
    }  # fmt: skip
    assert body["targets"] == [
        {"priority": "urgent", "metric": "first_reply", "minutes": 60, "business_hours": True,
         "pause_on": ["pending", "on_hold"]},
    ]  # fmt: skip
    assert body["is_active"] is True
    fetched = await client.get(f"/v1/sla-policies/{body['id']}", headers=ADMIN)
    assert fetched.json() == body


async def test_policies_list_in_the_order_they_are_tried(client):
    calendar = await make_calendar(client)
    late = await make_policy(client, calendar["id"], name="Late", position=5)
    early = await make_policy(client, calendar["id"], name="Early", position=1)
    tie = await make_policy(client, calendar["id"], name="Tie", position=5)
    listed = (await client.get("/v1/sla-policies", headers=ADMIN)).json()["data"]
    assert [p["id"] for p in listed] == [early["id"], late["id"], tie["id"]]
    first = (await client.get("/v1/sla-policies?limit=1", headers=ADMIN)).json()
    second = await client.get(
        f"/v1/sla-policies?limit=2&cursor={first['next_cursor']}", headers=ADMIN
    )
    assert [p["id"] for p in second.json()["data"]] == [late["id"], tie["id"]]


async def test_unknown_calendar_is_422(client):
    response = await client.post(
        "/v1/sla-policies", json={"name": "P", "calendar_id": 999999}, headers=ADMIN
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "calendar_id"]


async def test_unknown_group_in_conditions_is_422(client):
    calendar = await make_calendar(client)
    response = await client.post(
        "/v1/sla-policies",
        json={"name": "P", "calendar_id": calendar["id"], "conditions": {"group_id": [424242]}},
        headers=ADMIN,
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "conditions", "group_id", 0]


async def test_two_targets_for_one_priority_and_metric_are_422(client):
    calendar = await make_calendar(client)
    response = await client.post(
        "/v1/sla-policies",
        json={"name": "P", "calendar_id": calendar["id"],
              "targets": [target("first_reply", 60), target("first_reply", 30)]},
        headers=ADMIN,
    )  # fmt: skip
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "targets", 1]


async def test_invalid_target_is_422(client):
    calendar = await make_calendar(client)
    for bad in (
        target("first_reply", 0),
        target("answer_time", 60),
        target("first_reply", 60, pause_on=["solved"]),
        target("first_reply", 60, business_hours="yes"),
    ):
        response = await client.post(
            "/v1/sla-policies",
            json={"name": "P", "calendar_id": calendar["id"], "targets": [bad]},
            headers=ADMIN,
        )
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["loc"][:3] == ["body", "targets", 0], problem


async def test_patch_replaces_targets_and_changes_the_etag(client):
    calendar = await make_calendar(client)
    policy = await make_policy(client, calendar["id"], target("first_reply", 60))
    etag = (await client.get(f"/v1/sla-policies/{policy['id']}", headers=ADMIN)).headers["ETag"]
    response = await client.patch(
        f"/v1/sla-policies/{policy['id']}",
        json={"targets": [target("resolution", 480)]},
        headers={**ADMIN, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert [t["metric"] for t in response.json()["targets"]] == ["resolution"]
    assert response.headers["ETag"] != etag


async def test_patch_with_stale_etag_is_412(client):
    calendar = await make_calendar(client)
    policy = await make_policy(client, calendar["id"])
    response = await client.patch(
        f"/v1/sla-policies/{policy['id']}",
        json={"name": "New"},
        headers={**ADMIN, "If-Match": '"sla-policy-1-v42"'},
    )
    assert_problem(response, 412)


async def test_deleted_policy_is_deactivated_and_matches_no_new_ticket(client, clock):
    calendar = await make_calendar(client)
    policy = await make_policy(client, calendar["id"], target("first_reply", 60))
    response = await client.delete(f"/v1/sla-policies/{policy['id']}", headers=ADMIN)
    assert response.status_code == 204
    fetched = (await client.get(f"/v1/sla-policies/{policy['id']}", headers=ADMIN)).json()
    assert fetched["is_active"] is False
    ticket = await make_ticket(client)
    assert (await ticket_sla(client, ticket["id"]))["policy"] is None
    active = (await client.get("/v1/sla-policies?is_active=true", headers=ADMIN)).json()
    assert active["data"] == []


async def test_unknown_policy_is_404(client):
    assert_problem(await client.get("/v1/sla-policies/999999", headers=ADMIN), 404)


async def test_agent_reads_policies_but_cannot_write_them(client):
    calendar = await make_calendar(client)
    policy = await make_policy(client, calendar["id"])
    _, agent = await make_user_with_token(client, role="agent")
    assert (await client.get("/v1/sla-policies", headers=agent)).status_code == 200
    assert (await client.get(f"/v1/sla-policies/{policy['id']}", headers=agent)).status_code == 200
    created = await client.post(
        "/v1/sla-policies", json={"name": "P", "calendar_id": calendar["id"]}, headers=agent
    )
    assert_problem(created, 403)
    patched = await client.patch(
        f"/v1/sla-policies/{policy['id']}", json={"name": "Q"}, headers=agent
    )
    assert_problem(patched, 403)
    assert_problem(await client.delete(f"/v1/sla-policies/{policy['id']}", headers=agent), 403)


async def test_patch_changes_fields_conditions_and_targets_together(client):
    calendar = await make_calendar(client)
    other = await make_calendar(client, name="Other")
    policy = await make_policy(client, calendar["id"], target("first_reply", 60))
    response = await client.patch(
        f"/v1/sla-policies/{policy['id']}",
        json={"name": "Renamed", "position": 3, "calendar_id": other["id"],
              "conditions": {"channel": ["chat"]}, "targets": [target("resolution", 90)]},
        headers=ADMIN,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["position"], body["calendar_id"]) == ("Renamed", 3, other["id"])
    assert body["conditions"]["channel"] == ["chat"]
    assert [t["minutes"] for t in body["targets"]] == [90]
    fetched = await client.get(f"/v1/sla-policies/{policy['id']}", headers=ADMIN)
    assert fetched.json() == body

"""``/v1/automations``: admins write time-based rules, validated when saved (the path of the
bad part in every 422); staff read them; customers neither."""

from typing import Any

import asyncpg
import pytest

from helpdesk_api.core.db import to_libpq_url
from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.tickets.factories import make_group, status_id

PENDING_TOO_LONG: dict[str, Any] = {
    "title": "Pending for two days: bump",
    "conditions": {
        "all": [
            {"field": "hours_since_pending", "operator": "greater_than", "value": 48},
            {"field": "tags", "operator": "not_includes", "value": ["bumped"]},
        ]
    },
    "actions": [{"action": "add_tags", "tags": ["bumped"]}],
}


async def create(client, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = await client.post("/v1/automations", json={**body, **extra}, headers=ADMIN)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/automations/{created['id']}"
    return created


async def test_the_defaults_are_there_on_a_fresh_database(client):
    listed = (await client.get("/v1/automations", headers=ADMIN)).json()["data"]
    closed, solved = await status_id(client, "closed"), await status_id(client, "solved")

    assert [(a["title"], a["active"]) for a in listed] == [
        ("Close solved tickets after 4 days", True),
        ("Remind the requester after 5 business days pending", False),
        ("Solve pending tickets after 10 business days", False),
    ]
    assert listed[0]["conditions"]["all"] == [
        {"field": "hours_since_solved", "operator": "greater_than", "value": 96.0,
         "business_hours": False},
    ]  # fmt: skip
    assert listed[0]["actions"] == [{"action": "set_status", "status_id": closed}]
    assert listed[1]["actions"][0]["action"] == "notify"
    assert listed[1]["actions"][0]["recipient"] == "requester"
    assert listed[2]["conditions"]["all"][0]["business_hours"] is True
    assert listed[2]["actions"][0] == {"action": "set_status", "status_id": solved}


async def test_create_read_update_and_delete(client, database_url):
    created = await create(client, PENDING_TOO_LONG)
    path = f"/v1/automations/{created['id']}"
    assert created["active"] is True
    assert created["position"] == 3  # after the three defaults
    assert created["last_error"] is None
    assert created["conditions"]["all"][0] == {
        "field": "hours_since_pending", "operator": "greater_than", "value": 48.0,
        "business_hours": False,
    }  # fmt: skip

    read = await client.get(path, headers=ADMIN)
    assert read.json() == created
    etag = read.headers["etag"]
    patched = await client.patch(
        path, json={"active": False, "title": "Off"}, headers={**ADMIN, "If-Match": etag}
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["active"], patched.json()["title"]) == (False, "Off")
    stale = await client.patch(path, json={"active": True}, headers={**ADMIN, "If-Match": etag})
    assert_problem(stale, 412)

    assert (await client.delete(path, headers=ADMIN)).status_code == 204
    assert_problem(await client.get(path, headers=ADMIN), 404)

    # From the table, not the feed: the feed waits for the oldest transaction in flight on
    # the whole server, which another test's may be.
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        kinds = await connection.fetch(
            "SELECT type FROM events WHERE type LIKE 'automation.%' ORDER BY id"
        )
    finally:
        await connection.close()
    assert [k["type"] for k in kinds] == [
        "automation.created", "automation.updated", "automation.deleted"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"conditions": {"all": [{"field": "hours_since_lunch", "operator": "is", "value": 1}]}},
         ["body", "conditions", "all", 0, "field"]),
        ({"conditions": {"all": [{"field": "hours_since_pending", "operator": "about",
                                  "value": 1}]}},
         ["body", "conditions", "all", 0, "operator"]),
        ({"conditions": {"all": [{"field": "hours_since_pending", "operator": "greater_than",
                                  "value": "two days"}]}},
         ["body", "conditions", "all", 0, "value"]),
        ({"conditions": {"all": [{"field": "hours_since_pending", "operator": "greater_than",
                                  "value": -1}]}},
         ["body", "conditions", "all", 0, "value"]),
        ({"conditions": {"all": [{"field": "hours_since_pending", "operator": "is",
                                  "value": 1.5}]}},
         ["body", "conditions", "all", 0, "value"]),
        ({"conditions": {"all": [PENDING_TOO_LONG["conditions"]["all"][0],
                                 {"field": "priority", "operator": "is", "value": "huge"}]}},
         ["body", "conditions", "all", 1, "value"]),
        ({"conditions": {"all": [PENDING_TOO_LONG["conditions"]["all"][0],
                                 {"field": "comment_text", "operator": "contains_words",
                                  "value": "thanks"}]}},
         ["body", "conditions", "all", 1, "field"]),
        ({"conditions": {"all": [PENDING_TOO_LONG["conditions"]["all"][0]],
                         "any": [{"field": "priority", "operator": "changed"}]}},
         ["body", "conditions", "any", 0, "operator"]),
        ({"actions": [{"action": "launch_rocket"}]}, ["body", "actions", 0]),
        ({"actions": [{"action": "add_note", "body": "{% if %}"}]},
         ["body", "actions", 0, "add_note", "body"]),
        ({"actions": [{"action": "add_tags", "tags": ["bumped"]},
                      {"action": "set_status", "status_id": 999_999}]},
         ["body", "actions", 1, "set_status", "status_id"]),
    ],
)  # fmt: skip
async def test_a_rule_that_cannot_work_is_refused_with_its_path(client, change, loc):
    response = await client.post(
        "/v1/automations", json={**PENDING_TOO_LONG, **change}, headers=ADMIN
    )
    body = assert_problem(response, 422)
    assert any(e["loc"][: len(loc)] == loc for e in body["errors"]), body["errors"]


async def test_an_action_on_a_deleted_group_is_refused_at_its_path(client):
    group = await make_group(client, "Retired")
    await client.delete(f"/v1/groups/{group['id']}", headers=ADMIN)
    actions = [{"action": "add_tags", "tags": ["bumped"]},
               {"action": "set_group", "group_id": group["id"]}]  # fmt: skip
    response = await client.post(
        "/v1/automations", json={**PENDING_TOO_LONG, "actions": actions}, headers=ADMIN
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == [
        "body", "actions", 1, "set_group", "group_id"
    ]  # fmt: skip


async def test_a_rule_without_a_bounding_time_condition_is_refused(client):
    for conditions in (
        {"all": [{"field": "tags", "operator": "not_includes", "value": ["bumped"]}]},
        {"all": [{"field": "hours_since_updated", "operator": "less_than", "value": 2},
                 {"field": "tags", "operator": "not_includes", "value": ["bumped"]}]},
        {"all": [{"field": "tags", "operator": "not_includes", "value": ["bumped"]}],
         "any": [{"field": "hours_since_created", "operator": "greater_than", "value": 2}]},
    ):  # fmt: skip
        response = await client.post(
            "/v1/automations", json={**PENDING_TOO_LONG, "conditions": conditions},
            headers=ADMIN,
        )  # fmt: skip
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["loc"] == ["body", "conditions", "all"]
        assert "time condition" in problem["detail"]


async def test_a_rule_that_never_undoes_its_conditions_is_refused(client):
    pending = await status_id(client, "pending")
    solved = await status_id(client, "solved")
    for_two_days = {"field": "hours_since_pending", "operator": "greater_than", "value": 48}
    refused = [
        ({"all": [for_two_days]}, [{"action": "set_priority", "priority": "high"}]),
        ({"all": [for_two_days]}, [{"action": "set_status", "status_id": pending}]),
        ({"all": [for_two_days, {"field": "tags", "operator": "not_includes",
                                 "value": ["bumped"]}]},
         [{"action": "add_tags", "tags": ["other"]}]),
    ]  # fmt: skip
    for conditions, actions in refused:
        body = {**PENDING_TOO_LONG, "conditions": conditions, "actions": actions}
        response = await client.post("/v1/automations", json=body, headers=ADMIN)
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["loc"] == ["body", "actions"]
        assert "undo" in problem["detail"]
    accepted = [
        ({"all": [for_two_days]}, [{"action": "set_status", "status_id": solved}]),
        ({"all": [for_two_days, {"field": "priority", "operator": "is", "value": "low"}]},
         [{"action": "set_priority", "priority": "normal"}]),
        ({"all": [{**for_two_days, "operator": "is"}]},
         [{"action": "add_note", "body": "Two days pending."}]),
    ]  # fmt: skip
    for conditions, actions in accepted:
        body = {**PENDING_TOO_LONG, "conditions": conditions, "actions": actions}
        await create(client, body)

    made = await create(client, PENDING_TOO_LONG)
    patched = await client.patch(
        f"/v1/automations/{made['id']}",
        json={"actions": [{"action": "add_tags", "tags": ["other"]}]},
        headers=ADMIN,
    )
    assert assert_problem(patched, 422)["errors"][0]["loc"] == ["body", "actions"]


async def test_admins_write_staff_read_customers_neither(client):
    made = await create(client, PENDING_TOO_LONG)
    path = f"/v1/automations/{made['id']}"
    _, agent = await make_user_with_token(client, role="agent")
    assert (await client.get("/v1/automations", headers=agent)).status_code == 200
    assert (await client.get(path, headers=agent)).json() == made
    for headers in (agent, (await make_user_with_token(client, role="customer"))[1]):
        response = await client.post("/v1/automations", json=PENDING_TOO_LONG, headers=headers)
        assert_problem(response, 403)
        assert_problem(await client.patch(path, json={"active": False}, headers=headers), 403)
        assert_problem(await client.delete(path, headers=headers), 403)
    _, customer = await make_user_with_token(client, role="customer")
    assert_problem(await client.get("/v1/automations", headers=customer), 403)
    assert_problem(await client.get(path, headers=customer), 403)

"""``/v1/triggers``: admins write rules that are validated when saved and fire through the
ticket pipeline at once; agents and customers may not read or write them."""

import json
from typing import Any

import pytest

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.mail.factories import fetch_rows
from tests.tickets.factories import audits, make_group, make_ticket, status_id

URGENT_OUTAGES: dict[str, Any] = {
    "title": "Outages are urgent",
    "conditions": {"all": [{"field": "subject", "operator": "contains_words", "value": "outage"}]},
    "actions": [{"action": "set_priority", "priority": "urgent"}],
}


async def create(client, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = await client.post("/v1/triggers", json={**body, **extra}, headers=ADMIN)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/triggers/{created['id']}"
    return created


async def test_a_created_trigger_fires_on_the_next_change(client):
    trigger = await create(client, URGENT_OUTAGES)

    assert trigger["active"] is True
    assert trigger["position"] == 1  # after the default acknowledgement
    assert trigger["last_error"] is None
    ticket = await make_ticket(client, subject="Mail outage")
    assert ticket["priority"] == "urgent"
    notes = [c for a in await audits(client, ticket["id"]) for c in a["changes"]]
    assert {"field": "trigger", "from": None,
            "to": {"id": trigger["id"], "title": "Outages are urgent"}} in notes  # fmt: skip


async def test_read_update_deactivate_and_delete(client):
    trigger = await create(client, URGENT_OUTAGES)
    path = f"/v1/triggers/{trigger['id']}"

    read = await client.get(path, headers=ADMIN)
    assert read.status_code == 200
    assert read.json() == trigger
    etag = read.headers["etag"]

    patched = await client.patch(
        path, json={"active": False, "title": "Off"}, headers={**ADMIN, "If-Match": etag}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["active"] is False
    assert patched.json()["title"] == "Off"
    assert (await make_ticket(client, subject="Another outage"))["priority"] == "normal"

    stale = await client.patch(path, json={"active": True}, headers={**ADMIN, "If-Match": etag})
    assert_problem(stale, 412)

    assert (await client.delete(path, headers=ADMIN)).status_code == 204
    assert_problem(await client.get(path, headers=ADMIN), 404)


async def test_replacing_the_actions_recompiles_the_rule(client):
    trigger = await create(client, URGENT_OUTAGES)
    response = await client.patch(
        f"/v1/triggers/{trigger['id']}",
        json={"actions": [{"action": "add_tags", "tags": ["outage"]}]},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text

    ticket = await make_ticket(client, subject="Outage again")
    assert ticket["priority"] == "normal"
    assert ticket["tags"] == ["outage"]


async def test_list_is_in_firing_order_and_reorder_sets_every_position(client):
    first = await create(client, {**URGENT_OUTAGES, "title": "A"})
    second = await create(client, {**URGENT_OUTAGES, "title": "B"})
    third = await create(client, {**URGENT_OUTAGES, "title": "C"}, position=0)

    listed = (await client.get("/v1/triggers", headers=ADMIN)).json()["data"]
    [default] = [t["id"] for t in listed if t["title"] == "Acknowledge new requests"]
    # Equal positions fire by id: the default, created first, before "C".
    assert [t["id"] for t in listed] == [default, third["id"], first["id"], second["id"]]

    order = [second["id"], first["id"], third["id"], default]
    response = await client.put("/v1/triggers/order", json={"trigger_ids": order}, headers=ADMIN)
    assert response.status_code == 204, response.text
    listed = (await client.get("/v1/triggers", headers=ADMIN)).json()["data"]
    assert [(t["id"], t["position"]) for t in listed] == list(zip(order, range(4), strict=True))

    missing = await client.put("/v1/triggers/order", json={"trigger_ids": order[:2]}, headers=ADMIN)
    assert assert_problem(missing, 422)["errors"][0]["loc"] == ["body", "trigger_ids"]
    twice = await client.put(
        "/v1/triggers/order", json={"trigger_ids": [*order, order[0]]}, headers=ADMIN
    )
    assert assert_problem(twice, 422)["errors"][0]["loc"] == ["body", "trigger_ids", 4]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"conditions": {"all": [{"field": "colour", "operator": "is", "value": 1}]}},
         ["body", "conditions", "all", 0, "field"]),
        ({"conditions": {"all": [{"field": "priority", "operator": "contains_words",
                                  "value": "x"}]}},
         ["body", "conditions", "all", 0, "operator"]),
        ({"conditions": {"all": [{"field": "priority", "operator": "is", "value": "huge"}]}},
         ["body", "conditions", "all", 0, "value"]),
        ({"actions": [{"action": "launch_rocket"}]}, ["body", "actions", 0]),
        ({"actions": []}, ["body", "actions"]),
        ({"actions": [{"action": "set_priority", "priority": "huge"}]},
         ["body", "actions", 0, "set_priority", "priority"]),
        ({"actions": [{"action": "add_note", "body": "{% if %}"}]},
         ["body", "actions", 0, "add_note", "body"]),
        ({"title": "  "}, ["body", "title"]),
    ],
)  # fmt: skip
async def test_a_rule_that_cannot_mean_anything_is_refused_with_its_path(client, change, loc):
    before = (await client.get("/v1/triggers", headers=ADMIN)).json()["data"]
    response = await client.post("/v1/triggers", json={**URGENT_OUTAGES, **change}, headers=ADMIN)

    body = assert_problem(response, 422)
    assert any(e["loc"][: len(loc)] == loc for e in body["errors"]), body["errors"]
    assert (await client.get("/v1/triggers", headers=ADMIN)).json()["data"] == before


async def test_actions_on_things_that_cannot_be_used_are_refused(client):
    group = await make_group(client, "Retired")
    gone = await client.delete(f"/v1/groups/{group['id']}", headers=ADMIN)
    assert gone.status_code in (200, 204), gone.text
    customer = await make_user(client)
    cases = [
        ({"action": "set_group", "group_id": group["id"]}, "group_id"),
        ({"action": "set_group", "group_id": 999_999}, "group_id"),
        ({"action": "set_assignee", "assignee_id": customer["id"]}, "assignee_id"),
        ({"action": "set_status", "status_id": 999_999}, "status_id"),
        ({"action": "call_webhook", "webhook_id": 999_999, "payload": "{}"}, "webhook_id"),
        ({"action": "add_cc", "user_id": 999_999}, "user_id"),
        ({"action": "add_note", "body": "{{ ticket.nonsense.deeper }}"}, "body"),
        ({"action": "notify", "recipient": "requester", "subject": "Hi",
          "body": "{{ no_such_thing }}"}, "body"),
    ]  # fmt: skip
    for action, attribute in cases:
        body = {**URGENT_OUTAGES, "actions": [{"action": "add_tags", "tags": ["ok"]}, action]}
        response = await client.post("/v1/triggers", json=body, headers=ADMIN)
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["loc"] == ["body", "actions", 1, action["action"], attribute]

    trigger = await create(client, URGENT_OUTAGES)
    response = await client.patch(
        f"/v1/triggers/{trigger['id']}",
        json={"actions": [{"action": "set_group", "group_id": group["id"]}]},
        headers=ADMIN,
    )
    assert_problem(response, 422)
    unchanged = (await client.get(f"/v1/triggers/{trigger['id']}", headers=ADMIN)).json()
    assert unchanged["actions"] == URGENT_OUTAGES["actions"]


async def test_only_admins_may_read_or_write_triggers(client):
    trigger = await create(client, URGENT_OUTAGES)
    ticket = await make_ticket(client)
    for role in ("agent", "customer"):
        _, headers = await make_user_with_token(client, role=role)
        path = f"/v1/triggers/{trigger['id']}"
        assert_problem(await client.get("/v1/triggers", headers=headers), 403)
        assert_problem(await client.get(path, headers=headers), 403)
        assert_problem(await client.post("/v1/triggers", json=URGENT_OUTAGES, headers=headers), 403)
        assert_problem(await client.patch(path, json={"active": False}, headers=headers), 403)
        assert_problem(await client.delete(path, headers=headers), 403)
        dry = {"ticket_id": ticket["id"]}
        assert_problem(await client.post("/v1/triggers/dry-run", json=dry, headers=headers), 403)


async def test_trigger_events_are_recorded(client, database_url):
    trigger = await create(client, URGENT_OUTAGES)
    await client.patch(f"/v1/triggers/{trigger['id']}", json={"position": 5}, headers=ADMIN)
    await client.delete(f"/v1/triggers/{trigger['id']}", headers=ADMIN)

    # Read from the table: the feed waits for every older transaction on the server, and
    # the parallel suite's other databases keep some open (tests/access reads the feed).
    events = await fetch_rows(
        database_url, "SELECT type, data FROM events WHERE type LIKE 'trigger.%' ORDER BY id"
    )
    assert [e["type"] for e in events] == ["trigger.created", "trigger.updated", "trigger.deleted"]
    updated = (
        json.loads(events[1]["data"]) if isinstance(events[1]["data"], str) else events[1]["data"]
    )
    assert updated["changes"] == [{"field": "position", "from": 1, "to": 5}]


async def test_a_group_deleted_after_saving_is_an_error_on_the_rule_not_the_change(client):
    group = await make_group(client, "Tier 2")
    body = {
        **URGENT_OUTAGES,
        "actions": [
            {"action": "set_group", "group_id": group["id"]},
            {"action": "set_priority", "priority": "urgent"},
        ],
    }
    trigger = await create(client, body)
    await client.delete(f"/v1/groups/{group['id']}", headers=ADMIN)

    ticket = await make_ticket(client, subject="Outage")

    assert ticket["priority"] == "urgent"
    assert ticket["group_id"] is None
    read = (await client.get(f"/v1/triggers/{trigger['id']}", headers=ADMIN)).json()
    assert "set_group" in read["last_error"]
    assert str(group["id"]) in read["last_error"]
    assert read["last_error_at"] is not None


async def test_a_pending_status_from_a_trigger(client):
    pending = await status_id(client, "pending")
    await create(
        client,
        {**URGENT_OUTAGES, "actions": [{"action": "set_status", "status_id": pending}]},
    )
    ticket = await make_ticket(client, subject="Outage")
    assert ticket["status"]["id"] == pending


def test_a_webhook_payload_must_render_to_json():
    from helpdesk_api.automation.actions import CallWebhook
    from helpdesk_api.automation.wording import template_problems

    good = CallWebhook(action="call_webhook", webhook_id=1, payload='{"id": {{ ticket.id }}}')
    bad = CallWebhook(action="call_webhook", webhook_id=1, payload="id={{ ticket.id }}")
    assert template_problems(good) == []
    assert [attribute for attribute, _ in template_problems(bad)] == ["payload"]

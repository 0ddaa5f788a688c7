"""The admin resource helper: one ETag spelling, one Location, one change shape, one event."""

import json

import asyncpg
import pytest

from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.models import Group
from tests.factories import ADMIN, make_user
from tests.groups.test_api import make_group
from tests.organizations.test_api import make_org
from tests.sla.helpers import WEEKDAYS_9_TO_17, make_calendar, make_policy, target
from tests.statuses.test_api import make_status


def test_field_changes_lists_differences_in_order_and_redacts():
    before = {"name": "A", "notes": "old", "tags": ["x"], "position": 1}
    after = {"position": 1, "notes": "new", "name": "B", "tags": ["x", "y"]}
    assert field_changes(
        before, after, fields=("name", "notes", "tags", "position"), redacted={"notes"}
    ) == [
        {"field": "name", "from": "A", "to": "B"},
        {"field": "notes", "from": None, "to": None},
        {"field": "tags", "from": ["x"], "to": ["x", "y"]},
    ]
    assert field_changes(before, {"name": "A"}) == []


def test_a_resource_without_catalogued_events_is_refused():
    with pytest.raises(ValueError, match="gadget"):
        AdminResource("gadget", "/v1/gadgets", Group, "Gadget")


async def _admin_rows(client):
    calendar = await make_calendar(client)
    return {
        "user": ("/v1/users", (await make_user(client, role="agent"))["id"]),
        "organization": ("/v1/organizations", (await make_org(client))["id"]),
        "group": ("/v1/groups", (await make_group(client, name="Tier 1"))["id"]),
        "ticket_status": ("/v1/ticket-statuses", (await make_status(client))["id"]),
        "business_calendar": ("/v1/business-calendars", calendar["id"]),
        "sla_policy": (
            "/v1/sla-policies",
            (await make_policy(client, calendar["id"], target("first_reply", 60)))["id"],
        ),
    }


async def test_every_admin_resource_spells_its_etag_one_way(client):
    for name, (path, row_id) in (await _admin_rows(client)).items():
        response = await client.get(f"{path}/{row_id}", headers=ADMIN)
        assert response.headers["etag"] == f'"{name}-{row_id}-v1"', path


async def test_created_resources_carry_location_and_the_etag_get_gives(client):
    response = await client.post(
        "/v1/business-calendars",
        json={"name": "Here", "time_zone": "UTC", "hours": WEEKDAYS_9_TO_17},
        headers=ADMIN,
    )
    assert response.status_code == 201
    location = response.headers["location"]
    assert location == f"/v1/business-calendars/{response.json()['id']}"
    assert (await client.get(location, headers=ADMIN)).headers["etag"] == response.headers["etag"]


async def test_updated_events_of_calendars_and_policies_list_field_changes(client, database_url):
    calendar = await make_calendar(client)
    policy = await make_policy(client, calendar["id"], target("first_reply", 60))
    await client.patch(
        f"/v1/business-calendars/{calendar['id']}",
        json={"name": "Milan office", "time_zone": "Europe/Rome"},
        headers=ADMIN,
    )
    await client.patch(
        f"/v1/sla-policies/{policy['id']}",
        json={"targets": [target("first_reply", 30)], "name": policy["name"]},
        headers=ADMIN,
    )
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT type, data::text FROM events WHERE type LIKE '%.updated' ORDER BY id"
        )
    finally:
        await connection.close()
    by_type = {r["type"]: json.loads(r["data"]) for r in rows}
    calendar_event = by_type["business_calendar.updated"]
    assert calendar_event["business_calendar_id"] == calendar["id"]
    assert calendar_event["changes"] == [
        {"field": "name", "from": "Rome office", "to": "Milan office"}
    ]
    policy_event = by_type["sla_policy.updated"]
    assert policy_event["sla_policy_id"] == policy["id"]
    [change] = policy_event["changes"]
    assert change["field"] == "targets"
    assert change["from"][0]["minutes"] == 60
    assert change["to"][0]["minutes"] == 30

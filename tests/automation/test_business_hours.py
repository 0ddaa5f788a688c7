"""The `within_business_hours` condition: a trigger that acts only in (or out of) a business
calendar's hours, at the time of the change."""

from datetime import timedelta

from tests.factories import ADMIN, assert_problem
from tests.sla.helpers import MONDAY_10_ROME, WEEKDAYS_9_TO_17, clock, make_calendar
from tests.tickets.factories import make_ticket

__all__ = ["clock"]  # the fixed request clock, a fixture


async def after_hours_trigger(client, calendar_id: int) -> dict:
    body = {
        "title": "After hours",
        "conditions": {"all": [
            {"field": "within_business_hours", "operator": "is_not", "value": calendar_id}]},
        "actions": [{"action": "add_tags", "tags": ["after_hours"]}],
    }  # fmt: skip
    response = await client.post("/v1/triggers", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    created: dict = response.json()
    return created


async def test_a_trigger_tells_inside_from_outside_business_hours(client, clock):
    calendar = await make_calendar(
        client, name="Rome office", time_zone="Europe/Rome", hours=WEEKDAYS_9_TO_17
    )
    await after_hours_trigger(client, calendar["id"])

    clock.set(MONDAY_10_ROME)
    assert (await make_ticket(client))["tags"] == []
    clock.set(MONDAY_10_ROME + timedelta(hours=9))  # Monday 19:00 in Rome
    assert (await make_ticket(client))["tags"] == ["after_hours"]

    dry = await client.post(
        "/v1/triggers/dry-run", json={"ticket_id": (await make_ticket(client))["id"]},
        headers=ADMIN,
    )  # fmt: skip
    [outcome] = [t for t in dry.json()["triggers"] if t["title"] == "After hours"]
    assert outcome["conditions"][0]["actual"] == []  # no calendar open at 19:00
    assert outcome["matched"] is True


async def test_a_trigger_naming_an_unknown_calendar_is_refused(client):
    response = await client.post(
        "/v1/triggers",
        json={"title": "x", "actions": [{"action": "add_tags", "tags": ["x"]}],
              "conditions": {"any": [{"field": "within_business_hours", "operator": "is",
                                      "value": 999_999}]}},
        headers=ADMIN,
    )  # fmt: skip
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "conditions", "any", 0, "value"]

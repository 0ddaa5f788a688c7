"""`/v1/business-calendars`: admins write, staff read."""

import pytest

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.sla.helpers import WEEKDAYS_9_TO_17, make_calendar, make_policy, target


async def test_admin_creates_a_calendar_with_split_days_and_holidays(client):
    response = await client.post(
        "/v1/business-calendars",
        json={
            "name": "Milan",
            "time_zone": "Europe/Rome",
            "hours": [
                {"weekday": 1, "start": "09:00", "end": "12:30"},
                {"weekday": 1, "start": "13:30", "end": "18:00"},
            ],
            "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
        },
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/business-calendars/{body['id']}"
    assert response.headers["ETag"]
    assert body["hours"][1] == {"weekday": 1, "start": "13:30", "end": "18:00"}
    assert body["holidays"] == [{"date": "2026-12-25", "name": "Christmas"}]
    assert body["always_open"] is False
    fetched = await client.get(f"/v1/business-calendars/{body['id']}", headers=ADMIN)
    assert fetched.json() == body
    assert fetched.headers["ETag"] == response.headers["ETag"]


async def test_midnight_end_reads_as_24_00(client):
    calendar = await make_calendar(client, hours=[{"weekday": 6, "start": "20:00", "end": "00:00"}])
    assert calendar["hours"] == [{"weekday": 6, "start": "20:00", "end": "24:00"}]


async def test_holidays_from_fills_public_holidays_by_country(client):
    calendar = await make_calendar(
        client,
        holidays=[{"date": "2026-08-14", "name": "Office closed"}],
        holidays_from={"country": "IT", "years": [2026]},
    )
    dates = {h["date"]: h["name"] for h in calendar["holidays"]}
    assert "2026-12-25" in dates
    assert "2026-08-15" in dates  # Ferragosto
    assert dates["2026-08-14"] == "Office closed"
    assert list(dates) == sorted(dates)


async def test_holidays_from_adds_to_an_existing_calendar(client):
    calendar = await make_calendar(client)
    response = await client.patch(
        f"/v1/business-calendars/{calendar['id']}",
        json={"holidays_from": {"country": "US", "years": [2026, 2027]}},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    dates = [h["date"] for h in response.json()["holidays"]]
    assert "2026-07-04" in dates
    assert "2027-07-05" in dates  # observed


async def test_unknown_holiday_country_is_422(client):
    response = await client.post(
        "/v1/business-calendars",
        json={"name": "X", "hours": WEEKDAYS_9_TO_17,
              "holidays_from": {"country": "QQ", "years": [2026]}},
        headers=ADMIN,
    )  # fmt: skip
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "holidays_from", "country"]


async def test_always_open_calendar_needs_no_hours(client):
    calendar = await make_calendar(client, name="24/7", always_open=True, hours=[])
    assert calendar["always_open"] is True
    assert calendar["hours"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"hours": []}, "hours"),
        ({"always_open": True}, "hours"),
        ({"hours": [{"weekday": 1, "start": "09:00", "end": "12:00"},
                    {"weekday": 1, "start": "11:00", "end": "13:00"}]}, "hours"),
        ({"hours": [{"weekday": 8, "start": "09:00", "end": "12:00"}]}, "hours"),
        ({"hours": [{"weekday": 1, "start": "12:00", "end": "09:00"}]}, "hours"),
        ({"hours": [{"weekday": 1, "start": "9am", "end": "12:00"}]}, "hours"),
        ({"holidays": [{"date": "2026-02-30"}]}, "holidays"),
        ({"holidays_from": {"country": "IT", "years": [1800]}}, "holidays_from"),
        ({"always_open": 1}, "always_open"),
    ],
)  # fmt: skip
async def test_invalid_calendar_is_422_naming_the_field(client, body, field):
    payload = {"name": "Bad", "time_zone": "Europe/Rome", "hours": WEEKDAYS_9_TO_17, **body}
    response = await client.post("/v1/business-calendars", json=payload, headers=ADMIN)
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"][:2] == ["body", field], problem


async def test_patch_changes_hours_and_etag(client):
    calendar = await make_calendar(client)
    etag = (await client.get(f"/v1/business-calendars/{calendar['id']}", headers=ADMIN)).headers[
        "ETag"
    ]
    response = await client.patch(
        f"/v1/business-calendars/{calendar['id']}",
        json={"time_zone": "America/New_York"},
        headers={**ADMIN, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert response.json()["time_zone"] == "America/New_York"
    assert response.headers["ETag"] != etag


async def test_patch_with_stale_etag_is_412(client):
    calendar = await make_calendar(client)
    response = await client.patch(
        f"/v1/business-calendars/{calendar['id']}",
        json={"name": "Renamed"},
        headers={**ADMIN, "If-Match": '"business-calendar-1-v99"'},
    )
    assert_problem(response, 412)


async def test_calendar_used_by_a_policy_cannot_be_deleted(client):
    calendar = await make_calendar(client)
    await make_policy(client, calendar["id"], target("first_reply", 60))
    response = await client.delete(f"/v1/business-calendars/{calendar['id']}", headers=ADMIN)
    assert_problem(response, 409)


async def test_unused_calendar_is_deleted(client):
    calendar = await make_calendar(client)
    response = await client.delete(f"/v1/business-calendars/{calendar['id']}", headers=ADMIN)
    assert response.status_code == 204
    gone = await client.get(f"/v1/business-calendars/{calendar['id']}", headers=ADMIN)
    assert_problem(gone, 404)


async def test_calendars_list_pages_by_id(client):
    ids = [(await make_calendar(client, name=f"C{i}"))["id"] for i in range(3)]
    first = (await client.get("/v1/business-calendars?limit=2", headers=ADMIN)).json()
    assert [c["id"] for c in first["data"]] == ids[:2]
    rest = await client.get(
        f"/v1/business-calendars?limit=2&cursor={first['next_cursor']}", headers=ADMIN
    )
    assert [c["id"] for c in rest.json()["data"]] == ids[2:]


async def test_agent_reads_calendars_but_cannot_write_them(client):
    calendar = await make_calendar(client)
    _, agent = await make_user_with_token(client, role="agent")
    assert (await client.get("/v1/business-calendars", headers=agent)).status_code == 200
    assert (
        await client.get(f"/v1/business-calendars/{calendar['id']}", headers=agent)
    ).status_code == 200
    created = await client.post(
        "/v1/business-calendars", json={"name": "x", "always_open": True}, headers=agent
    )
    assert_problem(created, 403)
    patched = await client.patch(
        f"/v1/business-calendars/{calendar['id']}", json={"name": "y"}, headers=agent
    )
    assert_problem(patched, 403)
    deleted = await client.delete(f"/v1/business-calendars/{calendar['id']}", headers=agent)
    assert_problem(deleted, 403)

"""Calendars, policies and a fixed request clock for SLA tests."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from helpdesk_api.core.clock import current_time
from tests.factories import ADMIN

# Monday 23 November 2026, 10:00 in Rome (CET, UTC+1).
MONDAY_10_ROME = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WEEKDAYS_9_TO_17 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)]


class FixedClock:
    """The time every request happens at, set by the test (through `current_time`)."""

    def __init__(self, app: FastAPI, start: datetime) -> None:
        self.now = start
        app.dependency_overrides[current_time] = lambda: self.now

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(app: FastAPI) -> Iterator[FixedClock]:
    fixed = FixedClock(app, MONDAY_10_ROME)
    yield fixed
    app.dependency_overrides.pop(current_time, None)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


async def make_calendar(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Rome office",
        "time_zone": "Europe/Rome",
        "hours": WEEKDAYS_9_TO_17,
    }
    body.update(overrides)
    response = await client.post("/v1/business-calendars", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    calendar: dict[str, Any] = response.json()
    return calendar


def target(metric: str, minutes: int, priority: str = "normal", **extra: Any) -> dict[str, Any]:
    return {"priority": priority, "metric": metric, "minutes": minutes, **extra}


async def make_policy(
    client: httpx.AsyncClient, calendar_id: int, *targets: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Policy {len(targets)}",
        "calendar_id": calendar_id,
        "targets": list(targets),
    }
    body.update(overrides)
    response = await client.post("/v1/sla-policies", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    policy: dict[str, Any] = response.json()
    return policy


async def ticket_sla(
    client: httpx.AsyncClient, ticket_id: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.get(f"/v1/tickets/{ticket_id}/sla", headers=headers or ADMIN)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def metric(client: httpx.AsyncClient, ticket_id: int, name: str) -> dict[str, Any]:
    metrics = {m["metric"]: m for m in (await ticket_sla(client, ticket_id))["metrics"]}
    assert name in metrics, metrics
    return metrics[name]

"""The floors' ticket metrics (helpdesk_api.reports.tracking): one INSERT when a ticket is
created, one SELECT and one UPDATE when a change moves a figure. The figures are the service's
own pure fold (``reports.timeline``), as the SLA floor uses the service's clock arithmetic;
the statements are the service's, numbered for asyncpg."""

import json
import re
from dataclasses import asdict
from datetime import date, time
from typing import Any

from bench.floor_sql import Request
from helpdesk_api.reports import timeline
from helpdesk_api.reports.tracking_sql import COLUMNS, INSERT, SELECT, UPDATE
from helpdesk_api.sla.business_time import BusinessCalendar, OpeningInterval


def _numbered(sql: str) -> tuple[str, list[str]]:
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    return re.sub(r"(?<!:):(\w+)", number, sql), names


INSERT_SQL, INSERT_NAMES = _numbered(INSERT.text)
SELECT_SQL, _ = _numbered(SELECT.element.text)
UPDATE_SQL, UPDATE_NAMES = _numbered(UPDATE.text)


async def metrics_on_create(r: Request, t: dict[str, Any]) -> None:
    figures = timeline.start(t["created_at"], t["status_category"], t["assignee_id"])
    values = asdict(figures) | {"ticket_id": t["id"], "updated_at": r.now}
    await r.conn.execute(INSERT_SQL, *(values[n] for n in INSERT_NAMES))


def _calendar(row: Any) -> BusinessCalendar | None:
    if row["calendar_row_id"] is None:
        return None
    if row["always_open"]:
        return BusinessCalendar.always_open()

    hours = json.loads(row["hours"]) if isinstance(row["hours"], str) else row["hours"]
    days = json.loads(row["holidays"]) if isinstance(row["holidays"], str) else row["holidays"]

    def wall(value: str) -> time:
        return time(0, 0) if value == "24:00" else time.fromisoformat(value)

    return BusinessCalendar(
        row["time_zone"],
        tuple(OpeningInterval(h["weekday"], wall(h["start"]), wall(h["end"])) for h in hours),
        frozenset(date.fromisoformat(h["date"]) for h in days),
    )


async def metrics_on_change(
    r: Request, t: dict[str, Any], changes: list[dict[str, Any]], reply: str | None
) -> None:
    steps: list[timeline.Step] = []
    if reply in ("agent", "customer"):
        steps.append(timeline.Reply(r.now, by_agent=reply == "agent"))
    for entry in changes:
        if entry["field"] == "status":
            steps.append(timeline.StatusMove(r.now, entry["to"]["category"]))
        elif entry["field"] == "assignee_id":
            steps.append(timeline.Assigned(r.now, entry["to"]))
        elif entry["field"] == "group_id":
            steps.append(timeline.GroupMove(r.now, entry["to"]))
    if not steps:
        return
    row = await r.conn.fetchrow(SELECT_SQL, t["id"])
    if row is None:
        raise RuntimeError(f"ticket {t['id']} has no metrics row")
    figures = timeline.Figures(**{name: row[name] for name in COLUMNS})
    clock = timeline.Clock(t["created_at"], _calendar(row), row["calendar_row_id"])
    for step in steps:
        timeline.apply(figures, step, clock)
    values = asdict(figures) | {"ticket_id": t["id"], "updated_at": r.now}
    await r.conn.execute(UPDATE_SQL, *(values[n] for n in UPDATE_NAMES))

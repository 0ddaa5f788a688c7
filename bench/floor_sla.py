"""The SLA hook of the floors: helpdesk_api.sla.tracking's statements on raw asyncpg, with the
service's own pure rules (policy matching, clock arithmetic, business calendars).

Only what the bench's requests reach: a ticket created by an agent (the policy chosen, its
clocks started), and a change by an admin (an agent's public reply, a move between status
categories) on a ticket that keeps its policy. The ORM writes only the columns that changed,
in its column order; so does this.
"""

import json
from dataclasses import fields
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import asyncpg

from bench.floor_sql import TS, Request
from helpdesk_api.sla import business_time, clock
from helpdesk_api.sla.calendars import to_business_calendar
from helpdesk_api.sla.matching import TicketFacts, choose
from helpdesk_api.sla.rows import make_target

POLICIES_SQL = (
    "SELECT sla_policies.name, sla_policies.description, sla_policies.position, "
    "sla_policies.calendar_id, sla_policies.conditions, sla_policies.is_active, "
    "sla_policies.version, sla_policies.id, sla_policies.created_at, sla_policies.updated_at "
    "FROM sla_policies WHERE sla_policies.is_active IS true "
    "ORDER BY sla_policies.position, sla_policies.id"
)
USER_TAGS_SQL = "SELECT users.tags FROM users WHERE users.id = $1::BIGINT"
ORGANIZATION_TAGS_SQL = (
    "SELECT organizations.tags FROM organizations WHERE organizations.id = $1::BIGINT"
)
CALENDARS_SQL = (
    "SELECT sla_policies.id, business_calendars.name, business_calendars.time_zone, "
    "business_calendars.always_open, business_calendars.hours, business_calendars.holidays, "
    "business_calendars.version, business_calendars.id AS id_1, business_calendars.created_at, "
    "business_calendars.updated_at FROM sla_policies JOIN business_calendars "
    "ON business_calendars.id = sla_policies.calendar_id WHERE sla_policies.id IN ({ids})"
)
TARGETS_SQL = (
    "SELECT sla_targets.policy_id, sla_targets.priority, sla_targets.metric, "
    "sla_targets.minutes, sla_targets.business_hours, sla_targets.pause_on, sla_targets.id "
    "FROM sla_targets WHERE sla_targets.policy_id = $1::BIGINT "
    "AND sla_targets.priority = $2::VARCHAR"
)
# Every column of a metric row in the mapper's order, with how it is bound.
METRIC_COLUMNS = {
    "ticket_id": "BIGINT", "metric": "VARCHAR", "cycle": "BIGINT", "policy_id": "BIGINT",
    "target_minutes": "BIGINT", "business_hours": "BOOLEAN", "pause_on": "VARCHAR(20)[]",
    "status": "VARCHAR", "started_at": TS, "paused_at": TS, "paused_total": "INTERVAL",
    "breach_at": TS, "warning_at": TS, "achieved_at": TS, "breached_at": TS,
    "warned": "BOOLEAN", "breach_notified": "BOOLEAN", "due_at": TS,
}  # fmt: skip
METRICS_FOR_UPDATE_SQL = (
    f"SELECT {', '.join(f'ticket_sla_metrics.{c}' for c in METRIC_COLUMNS)}, "
    "ticket_sla_metrics.id FROM ticket_sla_metrics "
    "WHERE ticket_sla_metrics.ticket_id = $1::BIGINT "
    "ORDER BY ticket_sla_metrics.cycle, ticket_sla_metrics.id FOR UPDATE"
)
TICKET_SLA_SQL = (
    "SELECT ticket_slas.ticket_id, ticket_slas.policy_id, ticket_slas.matched, "
    "ticket_slas.applied_at FROM ticket_slas WHERE ticket_slas.ticket_id = $1::BIGINT"
)
INSERT_TICKET_SLA_SQL = (
    "INSERT INTO ticket_slas (ticket_id, policy_id, matched, applied_at) "
    f"VALUES ($1::BIGINT, $2::BIGINT, $3::JSONB, $4::{TS})"
)
NEXT_BREACH_SQL = f"UPDATE tickets SET sla_next_breach_at=$1::{TS} WHERE tickets.id = $2::BIGINT"
_CLOCK_FIELDS = [f.name for f in fields(clock.Clock)]
STOPPED = frozenset({"solved", "closed"})


def _insert_metrics_sql(rows: int) -> str:
    """SQLAlchemy's "insertmanyvalues" form for several rows, a plain INSERT for one."""
    columns = ", ".join(METRIC_COLUMNS)
    types = list(METRIC_COLUMNS.values())
    if rows == 1:
        values = ", ".join(f"${n}::{t}" for n, t in enumerate(types, 1))
        return (
            f"INSERT INTO ticket_sla_metrics ({columns}) VALUES ({values}) "
            "RETURNING ticket_sla_metrics.id"
        )
    width = len(types)
    selected = ", ".join(f"p{i}::{t}" for i, t in enumerate(types))
    tuples = ", ".join(
        "(" + ", ".join(f"${r * width + i + 1}::{t}" for i, t in enumerate(types)) + f", {r})"
        for r in range(rows)
    )
    names = ", ".join(f"p{i}" for i in range(width))
    return (
        f"INSERT INTO ticket_sla_metrics ({columns}) SELECT {selected} FROM (VALUES {tuples}) "
        f"AS imp_sen({names}, sen_counter) ORDER BY sen_counter "
        "RETURNING ticket_sla_metrics.id, ticket_sla_metrics.id AS id__1"
    )


async def _calendars(
    conn: asyncpg.Connection, policy_ids: list[int]
) -> dict[int, business_time.BusinessCalendar]:
    ids = ", ".join(f"${n}::BIGINT" for n in range(1, len(policy_ids) + 1))
    rows = await conn.fetch(CALENDARS_SQL.format(ids=ids), *policy_ids)
    return {
        r["id"]: to_business_calendar(
            SimpleNamespace(
                always_open=r["always_open"], time_zone=r["time_zone"],
                hours=json.loads(r["hours"]), holidays=json.loads(r["holidays"]),
            )  # type: ignore[arg-type]
        )
        for r in rows
    }  # fmt: skip


async def _specs(
    conn: asyncpg.Connection,
    policy_id: int,
    priority: str,
    calendar: business_time.BusinessCalendar,
) -> dict[str, tuple[asyncpg.Record, clock.Target]]:
    rows = await conn.fetch(TARGETS_SQL, policy_id, priority)
    return {
        r["metric"]: (r, make_target(r["minutes"], r["business_hours"], r["pause_on"], calendar))
        for r in rows
    }


def _as_row(clock_state: clock.Clock) -> dict[str, Any]:
    values = {name: getattr(clock_state, name) for name in _CLOCK_FIELDS}
    values["due_at"] = clock_state.due_at
    return values


async def on_create(r: Request, t: dict[str, Any]) -> datetime | None:
    """A new ticket: choose its policy, start its clocks; returns its first reply's deadline."""
    conn = r.conn
    policies = [
        SimpleNamespace(id=p["id"], conditions=json.loads(p["conditions"]))
        for p in await conn.fetch(POLICIES_SQL)
    ]
    if not policies:
        return None
    tags = set(t["tags"])
    # The requester's and organisation's tags are read only when a policy asks for tags.
    segments = any(policy.conditions.get("tags") for policy in policies)
    if segments:
        tags.update(await conn.fetchval(USER_TAGS_SQL, t["requester_id"]) or [])
    if segments and t["organization_id"] is not None:
        tags.update(await conn.fetchval(ORGANIZATION_TAGS_SQL, t["organization_id"]) or [])
    facts = TicketFacts(
        priority=t["priority"], group_id=t["group_id"], organization_id=t["organization_id"],
        tags=frozenset(tags), channel=t["channel"], type=t["type"],
    )  # fmt: skip
    chosen = choose(policies, facts)
    if chosen is None:
        return None
    policy, matched = chosen
    calendars = await _calendars(conn, [policy.id])
    specs = await _specs(conn, policy.id, t["priority"], calendars[policy.id])
    started = []
    for metric in ("first_reply", "resolution"):
        if metric not in specs or t["status_category"] in STOPPED:
            continue
        target_row, target = specs[metric]
        state = clock.start(target, t["created_at"], r.now, category=t["status_category"])
        started.append((metric, target_row, state))
    deadlines = [s.breach_at for _, _, s in started if s.running and s.breach_at is not None]
    value = min(deadlines, default=None)
    if value is not None:
        await conn.execute(NEXT_BREACH_SQL, value, t["id"])
        t["sla_next_breach_at"] = value
    await conn.execute(INSERT_TICKET_SLA_SQL, t["id"], policy.id, json.dumps(matched), r.now)
    if started:
        args = []
        for metric, target_row, state in started:
            row = _as_row(state)
            args += [
                t["id"], metric, 1, policy.id, target_row["minutes"],
                target_row["business_hours"], list(target_row["pause_on"]),
                *(row[c] for c in list(METRIC_COLUMNS)[7:]),
            ]  # fmt: skip
        await conn.fetch(_insert_metrics_sql(len(started)), *args)
    first = next((s for m, _, s in started if m == "first_reply"), None)
    return first.breach_at if first is not None else None


class Clocks:
    """A ticket's clocks, locked, as _Tracker in helpdesk_api.sla.tracking keeps them."""

    def __init__(self, r: Request, ticket: dict[str, Any]) -> None:
        self.r, self.ticket = r, ticket
        self.rows: list[dict[str, Any]] = []
        self.before: list[dict[str, Any]] = []
        self.calendars: dict[int, business_time.BusinessCalendar] = {}
        self.specs: dict[str, tuple[asyncpg.Record, clock.Target]] = {}

    async def load(self) -> bool:
        """False when the ticket has neither a policy nor clocks (nothing more to do)."""
        conn, ticket_id = self.r.conn, self.ticket["id"]
        self.rows = [dict(row) for row in await conn.fetch(METRICS_FOR_UPDATE_SQL, ticket_id)]
        self.before = [dict(row) for row in self.rows]
        state = await conn.fetchrow(TICKET_SLA_SQL, ticket_id)
        if state is None and not self.rows:
            return False
        policy_ids = sorted(
            {row["policy_id"] for row in self.rows} | ({state["policy_id"]} if state else set())
        )
        self.calendars = await _calendars(conn, sorted(policy_ids))
        if state is not None:
            calendar = self.calendars[state["policy_id"]]
            self.specs = await _specs(conn, state["policy_id"], self.ticket["priority"], calendar)
        return True

    def _current(self) -> dict[str, dict[str, Any]]:
        return {row["metric"]: row for row in self.rows}  # ordered by cycle: the last one wins

    def _clock(self, row: dict[str, Any]) -> clock.Clock:
        return clock.Clock(**{name: row[name] for name in _CLOCK_FIELDS})

    def _target(self, row: dict[str, Any]) -> clock.Target:
        calendar = self.calendars[row["policy_id"]]
        return make_target(row["target_minutes"], row["business_hours"], row["pause_on"], calendar)

    def _store(self, row: dict[str, Any], state: clock.Clock) -> None:
        row.update(_as_row(state))

    def agent_replied(self) -> None:
        current = self._current()
        for metric in ("first_reply", "next_reply", "periodic_update"):
            row = current.get(metric)
            if row is not None and self._clock(row).waiting:
                self._store(row, clock.fulfil(self._clock(row), self.r.now))
        if "periodic_update" in self.specs:
            raise NotImplementedError("no periodic_update target in the bench's policies")

    def status_moved(self, old: str, new: str) -> None:
        current = self._current()
        if new in STOPPED and old not in STOPPED:
            for row in current.values():
                if self._clock(row).waiting:
                    self._store(row, clock.fulfil(self._clock(row), self.r.now))
        elif old in STOPPED and new not in STOPPED:
            raise NotImplementedError("the bench does not reopen tickets")
        for row in current.values():
            if row["status"] in (clock.ACTIVE, clock.PAUSED):
                moved = clock.apply_category(self._clock(row), self._target(row), new, self.r.now)
                self._store(row, moved)

    async def save(self) -> datetime | None:
        """Write what changed; returns the first reply's deadline while it is awaited. The
        next deadline goes first (an UPDATE of its own), then the ORM's flush of the clocks."""
        conn = self.r.conn
        deadlines = [
            row["breach_at"]
            for row in self._current().values()
            if row["breach_at"] is not None and self._clock(row).running
        ]
        value = min(deadlines, default=None)
        if self.ticket["sla_next_breach_at"] != value:
            await conn.execute(NEXT_BREACH_SQL, value, self.ticket["id"])
            self.ticket["sla_next_breach_at"] = value
        for before, row in zip(self.before, self.rows, strict=True):
            changed = [c for c in list(METRIC_COLUMNS)[7:] if row[c] != before[c]]
            if changed:
                sets = ", ".join(f"{c}=${n}::{METRIC_COLUMNS[c]}" for n, c in enumerate(changed, 1))
                await conn.execute(
                    f"UPDATE ticket_sla_metrics SET {sets} "
                    f"WHERE ticket_sla_metrics.id = ${len(changed) + 1}::BIGINT",
                    *(row[c] for c in changed), row["id"],
                )  # fmt: skip
        first = self._current().get("first_reply")
        if first is None or first["achieved_at"] is not None:
            return None
        return first["breach_at"]

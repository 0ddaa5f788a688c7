"""The SLA side of the bench dataset: a business calendar, two active policies, and each recent
ticket's clocks as the service and its worker would have left them.

The policies are written to the tables the service reads (business_calendars, sla_policies,
sla_targets) and every clock is computed with the service's own pure functions
(helpdesk_api.sla.matching, .clock, .calendars), so `create_ticket` runs the full SLA path and
the deadline queries (`sort=sla_breach_at`, `sla_status=breached|at_risk`, the worker's due
query) have realistic rows to find.

The policies were "configured" SLA_DAYS before the load: older tickets have no SLA, as in a
help desk that adopted SLAs recently (the service only applies a policy when a ticket
changes). A ticket in that window gets its policy (`ticket_slas`) and a `first_reply` and a
`resolution` clock (`ticket_sla_metrics`, cycle 1): fulfilled at its first agent reply and when
it was solved, paused while pending or on hold, and otherwise running, with the warnings and
breaches the worker would have announced by now already recorded. `tickets.sla_next_breach_at`
is the earliest deadline of its running clocks, as the service keeps it.
"""

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from helpdesk_api.models import BusinessCalendar
from helpdesk_api.sla import clock
from helpdesk_api.sla.calendars import to_business_calendar
from helpdesk_api.sla.matching import TicketFacts, choose
from helpdesk_api.sla.rows import make_target

SLA_DAYS = 7
# What the worker has not caught up with yet: deadlines passed less than this long ago.
WORKER_LAG = timedelta(minutes=1)
OFFICE_HOURS = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(1, 6)]
# (minutes, business hours, pause on) per priority and metric.
Targets = dict[str, dict[str, tuple[int, bool, list[str]]]]
PAUSE = ["pending", "on_hold"]
BUSINESS_DAY = 9 * 60  # minutes of open time per business day
POLICIES: list[dict[str, Any]] = [
    {
        "name": "Urgent, round the clock",
        "calendar": "always",
        "conditions": {"priority": ["urgent"]},
        "targets": {
            "urgent": {"first_reply": (4 * 60, False, []), "resolution": (48 * 60, False, PAUSE)}
        },
    },
    {
        "name": "Standard, office hours",
        "calendar": "office",
        "conditions": {},
        "targets": {
            priority: {
                "first_reply": (first * BUSINESS_DAY, True, []),
                "resolution": (resolution * BUSINESS_DAY, True, PAUSE),
            }
            for priority, first, resolution in (("low", 5, 10), ("normal", 3, 5), ("high", 1, 3))
        },
    },
]
METRIC_COLUMNS = [
    "ticket_id", "metric", "cycle", "policy_id", "target_minutes", "business_hours", "pause_on",
    "status", "started_at", "paused_at", "paused_total", "breach_at", "warning_at",
    "achieved_at", "breached_at", "warned", "breach_notified", "due_at",
]  # fmt: skip
STATE_COLUMNS = ["ticket_id", "policy_id", "matched", "applied_at"]


@dataclass(frozen=True)
class _Policy:
    id: int
    conditions: dict[str, Any]
    # priority -> metric -> (target row values, the clock's target)
    targets: dict[str, dict[str, tuple[tuple[int, bool, list[str]], clock.Target]]]


@dataclass(frozen=True)
class TicketSla:
    """What one ticket brings: its policy row, its clock rows, its next deadline."""

    state: tuple[Any, ...]
    metrics: list[tuple[Any, ...]]
    next_breach_at: datetime | None


def _holidays(now: datetime) -> list[dict[str, str]]:
    days = [(1, 1, "New Year"), (5, 1, "Labour Day"), (12, 25, "Christmas"), (12, 26, "St Stephen")]
    return [
        {"date": date(year, m, d).isoformat(), "name": name}
        for year in (now.year - 1, now.year, now.year + 1)
        for m, d, name in days
    ]


class SlaSetup:
    def __init__(self, policies: list[_Policy], now: datetime) -> None:
        self.policies = policies
        self.now = now
        self.since = now - timedelta(days=SLA_DAYS)

    @classmethod
    async def create(cls, conn: asyncpg.Connection, now: datetime) -> "SlaSetup":
        calendars = {
            "office": BusinessCalendar(
                name="Office hours, Rome", time_zone="Europe/Rome", always_open=False,
                hours=OFFICE_HOURS, holidays=_holidays(now),
            ),
            "always": BusinessCalendar(
                name="Always open", time_zone="UTC", always_open=True, hours=[], holidays=[]
            ),
        }  # fmt: skip
        calendar_ids: dict[str, int] = {}
        for key, row in calendars.items():
            calendar_ids[key] = await conn.fetchval(
                "INSERT INTO business_calendars (name, time_zone, always_open, hours, holidays) "
                "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb) RETURNING id",
                row.name, row.time_zone, row.always_open, json.dumps(row.hours),
                json.dumps(row.holidays),
            )  # fmt: skip
        policies = []
        for position, spec in enumerate(POLICIES):
            policy_id = await conn.fetchval(
                "INSERT INTO sla_policies (name, position, calendar_id, conditions) "
                "VALUES ($1, $2, $3, $4::jsonb) RETURNING id",
                spec["name"], position, calendar_ids[spec["calendar"]],
                json.dumps(spec["conditions"]),
            )  # fmt: skip
            calendar = to_business_calendar(calendars[spec["calendar"]])
            targets: dict[str, dict[str, Any]] = {}
            for priority, metrics in spec["targets"].items():
                for metric, (minutes, business, pause_on) in metrics.items():
                    await conn.execute(
                        "INSERT INTO sla_targets (policy_id, priority, metric, minutes, "
                        "business_hours, pause_on) VALUES ($1, $2, $3, $4, $5, $6)",
                        policy_id, priority, metric, minutes, business, pause_on,
                    )  # fmt: skip
                    target = make_target(minutes, business, pause_on, calendar)
                    targets.setdefault(priority, {})[metric] = (
                        (minutes, business, pause_on),
                        target,
                    )
            policies.append(_Policy(policy_id, spec["conditions"], targets))
        return cls(policies, now)

    def ticket(
        self,
        ticket_id: int,
        facts: TicketFacts,
        *,
        category: str,
        created: datetime,
        updated: datetime,
        first_reply: datetime | None,
        solved: datetime | None,
    ) -> TicketSla | None:
        """The ticket's SLA rows, or None if it predates the policies."""
        if created < self.since:
            return None
        chosen = choose(self.policies, facts)
        if chosen is None:
            return None
        policy, matched = chosen
        metrics = []
        deadlines = []
        for metric, (row, target) in policy.targets.get(facts.priority, {}).items():
            state = clock.start(target, created, created, category="open")
            done = first_reply if metric == "first_reply" else None
            if done is not None or solved is not None:
                state = clock.fulfil(state, min(d for d in (done, solved) if d is not None))
            elif category in target.pause_on:
                state = clock.pause(state, updated)
            state = self._as_the_worker_left_it(state)
            if state.running and state.breach_at is not None:
                deadlines.append(state.breach_at)
            minutes, business, pause_on = row
            metrics.append(
                (ticket_id, metric, 1, policy.id, minutes, business, pause_on, state.status,
                 state.started_at, state.paused_at, state.paused_total, state.breach_at,
                 state.warning_at, state.achieved_at, state.breached_at, state.warned,
                 state.breach_notified, state.due_at)
            )  # fmt: skip
        return TicketSla(
            state=(ticket_id, policy.id, json.dumps(matched), created),
            metrics=metrics,
            next_breach_at=min(deadlines, default=None),
        )

    def _as_the_worker_left_it(self, state: clock.Clock) -> clock.Clock:
        """Warnings and breaches due more than WORKER_LAG ago have been announced."""
        seen = self.now - WORKER_LAG
        if state.status == clock.BREACHED:
            return clock.record_breach(state)
        if state.status == clock.ACTIVE:
            if state.breach_at is not None and state.breach_at <= seen:
                return clock.record_breach(state)
            if state.warning_at is not None and state.warning_at <= seen:
                return clock.record_warning(state)
        if (
            state.status == clock.ACHIEVED
            and state.achieved_at is not None
            and state.warning_at is not None
            and state.warning_at <= state.achieved_at
        ):
            return replace(state, warned=True)
        return state

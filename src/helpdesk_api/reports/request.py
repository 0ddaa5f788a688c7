"""What a ticket report asks for, checked before any SQL runs: metric names, the dimension,
the interval, the range and the time zone, and the buckets the range splits into."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk_api.core.errors import InvalidInput

# Durations reports take percentiles of: the ticket_metrics columns (minutes).
DURATIONS = {
    "first_reply_time": "first_reply_minutes",
    "first_reply_time_business": "first_reply_business_minutes",
    "resolution_time": "full_resolution_minutes",
    "resolution_time_business": "full_resolution_business_minutes",
    "requester_wait_time": "requester_wait_minutes",
    "requester_wait_time_business": "requester_wait_business_minutes",
    "agent_wait_time": "agent_wait_minutes",
    "agent_wait_time_business": "agent_wait_business_minutes",
    "on_hold_time": "on_hold_minutes",
    "on_hold_time_business": "on_hold_business_minutes",
}
STATISTICS = {"p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99, "avg": None}
COUNTS = ("created", "solved", "backlog")
RATES = ("fcr_rate", "reopen_rate", "sla_achieved_rate", "csat_score")
DIMENSIONS = ("channel", "group", "assignee", "priority", "tag", "organization", "locale",
              "type", "status", "product")  # fmt: skip
# Named by the issue, but tickets do not carry it yet: refused with a reason, not ignored.
NOT_YET = {
    "custom_field": "tickets carry no custom fields yet",
}
INTERVALS = {"hour", "day", "week", "month"}
# The longest range per interval: at most ~1,000 buckets of a report in one response.
MAX_RANGE = {
    "hour": timedelta(days=31),
    "day": timedelta(days=732),
    "week": timedelta(days=7 * 262),
    "month": timedelta(days=366 * 20),
    None: timedelta(days=366 * 20),
}
MAX_METRICS = 30


@dataclass(frozen=True)
class Filters:
    group_id: int | None = None
    assignee_id: int | None = None
    organization_id: int | None = None
    product_id: int | None = None
    priority: str | None = None
    channel: str | None = None
    type: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class ReportRequest:
    metrics: tuple[str, ...]
    group_by: str | None
    interval: str | None
    start: datetime
    end: datetime
    tz: ZoneInfo
    filters: Filters = field(default_factory=Filters)

    @cached_property
    def bucket_list(self) -> list[tuple[datetime, datetime]]:
        return self._buckets()

    def buckets(self) -> list[tuple[datetime, datetime]]:
        return self.bucket_list

    def _buckets(self) -> list[tuple[datetime, datetime]]:
        """The range split at the interval's boundaries in ``tz``: a day in Europe/Rome on
        the last Sunday of March is 23 hours long. The first and last buckets are whole
        (a report from 10:00 has a bucket from midnight): bucket ``start`` is what rows carry."""
        if self.interval is None:
            return [(self.start, self.end)]
        edges = [_truncate(self.start, self.interval, self.tz)]
        while edges[-1] < self.end:
            edges.append(_next(edges[-1], self.interval, self.tz))
        return list(pairwise(edges))


def _truncate(instant: datetime, interval: str, zone: ZoneInfo) -> datetime:
    local = instant.astimezone(zone)
    if interval == "hour":
        local = local.replace(minute=0, second=0, microsecond=0)
        return local.astimezone(UTC)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if interval == "week":
        day -= timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    return day.replace(tzinfo=zone).astimezone(UTC)


def _next(start: datetime, interval: str, zone: ZoneInfo) -> datetime:
    if interval == "hour":
        return start + timedelta(hours=1)
    local = start.astimezone(zone).replace(tzinfo=None)
    if interval == "day":
        local += timedelta(days=1)
    elif interval == "week":
        local += timedelta(days=7)
    else:
        local = local.replace(year=local.year + local.month // 12, month=local.month % 12 + 1)
    # Midnight exists on every date of every zone reports are asked in but a few (whose DST
    # jump is at midnight): there zoneinfo maps the missing time forward, as PostgreSQL does.
    return local.replace(tzinfo=zone).astimezone(UTC)


def _check_metric(name: str) -> None:
    if name in COUNTS or name in RATES:
        return
    base, _, statistic = name.partition(".")
    if base in DURATIONS and statistic in STATISTICS:
        return
    if base in DURATIONS:
        raise InvalidInput(
            f"{name!r}: a duration takes one of {', '.join(STATISTICS)} (for example {base}.p50).",
            loc=("query", "metrics"),
            type="unknown_metric",
        )
    raise InvalidInput(
        f"Unknown metric {name!r}. Counts: {', '.join(COUNTS)}; rates: {', '.join(RATES)}; "
        f"durations (with .p50 … .p99 or .avg): {', '.join(DURATIONS)}.",
        loc=("query", "metrics"),
        type="unknown_metric",
    )


def _check_group_by(group_by: str | None) -> None:
    if group_by is None or group_by in DIMENSIONS:
        return
    head = group_by.split(":", 1)[0]
    if head in NOT_YET:
        raise InvalidInput(
            f"group_by={group_by} is not available: {NOT_YET[head]}.",
            loc=("query", "group_by"),
            type="dimension_unavailable",
        )
    raise InvalidInput(
        f"Unknown group_by {group_by!r}; one of {', '.join(DIMENSIONS)}.",
        loc=("query", "group_by"),
        type="unknown_dimension",
    )


def parse(
    *,
    metrics: str,
    group_by: str | None,
    interval: str | None,
    start: datetime,
    end: datetime,
    tz: str,
    filters: Filters,
) -> ReportRequest:
    names = tuple(dict.fromkeys(m.strip() for m in metrics.split(",") if m.strip()))
    if not names:
        raise InvalidInput("Name at least one metric.", loc=("query", "metrics"))
    if len(names) > MAX_METRICS:
        raise InvalidInput(f"At most {MAX_METRICS} metrics.", loc=("query", "metrics"))
    for name in names:
        _check_metric(name)
    _check_group_by(group_by)
    if interval is not None and interval not in INTERVALS:
        raise InvalidInput(
            f"interval is one of {', '.join(sorted(INTERVALS))}.", loc=("query", "interval")
        )
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"Unknown time zone {tz!r}: an IANA name such as Europe/Rome.",
            loc=("query", "tz"),
            type="unknown_time_zone",
        ) from exc
    if start >= end:
        raise InvalidInput("from must be before to.", loc=("query", "from"), type="range")
    if end - start > MAX_RANGE[interval]:
        raise InvalidInput(
            f"The range is too long for interval={interval}: at most "
            f"{MAX_RANGE[interval].days} days.",
            loc=("query", "to"),
            type="range_too_long",
        )
    return ReportRequest(names, group_by, interval, start, end, zone, filters)

"""Business-hours arithmetic for SLA clocks.

A :class:`BusinessCalendar` describes when a help desk is open: weekly opening intervals given
as local wall-clock times in an IANA time zone, plus local-date holidays. The functions here
translate between "business time" and real instants.

Conventions
-----------
* Every public function takes timezone-aware datetimes (naive input raises ``ValueError``) and
  returns aware datetimes in UTC.
* Open time is measured in real elapsed time, not wall-clock time. Each local interval of each
  local date is converted to a UTC span with :mod:`zoneinfo`:

  - an interval *start* that is ambiguous (autumn overlap, the wall time happens twice) takes
    the first occurrence (``fold=0``); an interval *end* that is ambiguous takes the second
    occurrence (``fold=1``), so the whole local interval, repeated hour included, is covered;
  - a boundary that does not exist (spring gap) maps to the instant the clocks jump.

  For example, in Europe/Rome a local 01:00-04:00 interval lasts 2 real hours on 2026-03-29
  and 4 real hours on 2026-10-25. A consequence of the end rule: an interval ending inside
  the repeated hour also covers the first pass over wall times after its end (01:00-02:30 on
  2026-10-25 is open until 02:30 CET, i.e. 2.5 real hours). Spans that overlap because of
  this are merged, so no instant is ever counted twice.
* A wall-clock end of ``time(0, 0)`` means midnight at the end of that day.
* Searches for open time are bounded by :data:`SEARCH_HORIZON_DAYS` local days from the start
  instant; asking for a result beyond that raises ``ValueError`` instead of looping forever.
* Inputs must lie in years 2..9997 (UTC) so the day look-arounds and the horizon can never
  overflow ``datetime``; anything else raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "SEARCH_HORIZON_DAYS",
    "BusinessCalendar",
    "OpeningInterval",
    "add_business_minutes",
    "add_business_time",
    "business_minutes_between",
    "business_time_between",
    "is_open",
    "next_opening",
]

SEARCH_HORIZON_DAYS = 3660
"""How many local days (about ten years) a forward search may scan before giving up."""

_MIDNIGHT = time(0, 0)
_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Inputs are limited to this range, and searches stop at the last day, so that local-day
# look-arounds and wall-time conversions in any zone (UTC-12..+14) stay inside ``datetime``.
_EARLIEST_INPUT = datetime(2, 1, 1, tzinfo=UTC)
_LATEST_INPUT = datetime(9998, 1, 1, tzinfo=UTC)
_LAST_SEARCHABLE_DAY = date(9999, 12, 29)

_Span = tuple[datetime, datetime]


def _since_midnight(value: time) -> timedelta:
    return timedelta(
        hours=value.hour,
        minutes=value.minute,
        seconds=value.second,
        microseconds=value.microsecond,
    )


@dataclass(frozen=True, slots=True)
class OpeningInterval:
    """A weekly opening interval in local wall-clock time.

    ``weekday`` is ISO (Monday=1 .. Sunday=7). ``end`` may be ``time(0, 0)`` to mean midnight
    at the end of the day, so ``time(0, 0)``-``time(0, 0)`` is the whole day.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 1 <= self.weekday <= 7:
            raise ValueError(f"weekday must be an ISO weekday 1..7, got {self.weekday!r}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("opening interval times must be naive local wall-clock times")
        if not self.ends_at_midnight and self.start >= self.end:
            raise ValueError(
                f"opening interval start {self.start} must be before end {self.end} "
                "(use time(0, 0) as end for midnight)"
            )

    @property
    def ends_at_midnight(self) -> bool:
        return self.end == _MIDNIGHT

    @property
    def end_since_midnight(self) -> timedelta:
        return _DAY if self.ends_at_midnight else _since_midnight(self.end)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Weekly opening hours in an IANA time zone, plus local-date holidays.

    Several intervals per weekday are allowed (e.g. a lunch break) as long as they do not
    overlap; touching intervals (12:00-13:00 and 13:00-14:00) are fine. A calendar without
    any interval is valid but never open; functions that must find open time reject it.
    """

    time_zone: str
    hours: tuple[OpeningInterval, ...]
    holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _by_weekday: tuple[tuple[OpeningInterval, ...], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Accept any iterables but store hashable containers so the calendar stays usable as
        # a dict key and cache key.
        object.__setattr__(self, "hours", tuple(self.hours))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from exc
        object.__setattr__(self, "_zone", zone)

        for holiday in self.holidays:
            if isinstance(holiday, datetime) or not isinstance(holiday, date):
                raise TypeError(f"holidays must be dates, got {holiday!r}")

        by_weekday: list[list[OpeningInterval]] = [[] for _ in range(7)]
        for interval in self.hours:
            if not isinstance(interval, OpeningInterval):
                raise TypeError(f"hours must contain OpeningInterval, got {interval!r}")
            by_weekday[interval.weekday - 1].append(interval)
        for intervals in by_weekday:
            intervals.sort(key=lambda iv: iv.start)
            for earlier, later in pairwise(intervals):
                if _since_midnight(later.start) < earlier.end_since_midnight:
                    raise ValueError(
                        f"overlapping opening intervals on weekday {earlier.weekday}: "
                        f"{earlier.start}-{earlier.end} and {later.start}-{later.end}"
                    )
        object.__setattr__(self, "_by_weekday", tuple(tuple(ivs) for ivs in by_weekday))

    @classmethod
    def always_open(cls) -> BusinessCalendar:
        """A 24/7 calendar in UTC without holidays."""
        return cls("UTC", tuple(OpeningInterval(day, _MIDNIGHT, _MIDNIGHT) for day in range(1, 8)))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def intervals_on(self, weekday: int) -> tuple[OpeningInterval, ...]:
        """The intervals of an ISO weekday, sorted by start."""
        return self._by_weekday[weekday - 1]


# --- public API -------------------------------------------------------------------------------


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant at which ``duration`` of open time has elapsed after ``start``.

    If ``start`` is outside opening hours, counting begins at the next opening. A zero
    duration returns ``start`` itself (normalised to UTC), even when the calendar is closed at
    that instant. A positive duration always lands inside or at the end of an open span, never
    strictly inside a closed period.
    """
    start = _as_utc(start, "start")
    if duration < timedelta(0):
        raise ValueError(f"business duration must not be negative, got {duration}")
    if not duration:
        return start
    _require_hours(calendar)
    remaining = duration
    for span_start, span_end in _open_spans(calendar, start, _horizon(calendar, start)):
        begin = max(span_start, start)
        available = span_end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ValueError(
        f"{duration} of business time not available within {SEARCH_HORIZON_DAYS} days of {start}"
    )


def add_business_minutes(calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """:func:`add_business_time` for a whole number of minutes (``minutes == 0`` returns start)."""
    if minutes < 0:
        raise ValueError(f"business minutes must not be negative, got {minutes}")
    return add_business_time(calendar, start, timedelta(minutes=minutes))


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Open time within ``[start, end)``, exact to the microsecond; zero if ``end <= start``."""
    start = _as_utc(start, "start")
    end = _as_utc(end, "end")
    total = timedelta(0)
    if end <= start:
        return total
    for span_start, span_end in _open_spans(calendar, start, _local_day(calendar, end) + 2 * _DAY):
        if span_start >= end:
            break
        total += min(span_end, end) - max(span_start, start)
    return total


def business_minutes_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """:func:`business_time_between` in (possibly fractional) minutes."""
    return business_time_between(calendar, start, end) / timedelta(minutes=1)


def is_open(calendar: BusinessCalendar, at: datetime) -> bool:
    """Whether ``at`` falls inside open time (spans are half-open: start in, end out)."""
    at = _as_utc(at, "at")
    for span_start, _ in _open_spans(calendar, at, _local_day(calendar, at) + 2 * _DAY):
        return span_start <= at
    return False


def next_opening(calendar: BusinessCalendar, at: datetime) -> datetime:
    """``at`` itself if open, else the start of the next open span."""
    at = _as_utc(at, "at")
    _require_hours(calendar)
    for span_start, _ in _open_spans(calendar, at, _horizon(calendar, at)):
        return max(span_start, at)
    raise ValueError(f"calendar has no opening within {SEARCH_HORIZON_DAYS} days of {at}")


# --- internals --------------------------------------------------------------------------------


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    try:
        instant: datetime | None = value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01 at a positive offset is before datetime.min UTC
        instant = None
    if instant is None or not _EARLIEST_INPUT <= instant < _LATEST_INPUT:
        raise ValueError(f"{name} must be within years 2..9997, got {value.isoformat()}")
    return instant


def _require_hours(calendar: BusinessCalendar) -> None:
    if not calendar.hours:
        raise ValueError("calendar has no opening hours, so it is never open")


def _local_day(calendar: BusinessCalendar, instant: datetime) -> date:
    return instant.astimezone(calendar.zone).date()


def _horizon(calendar: BusinessCalendar, since: datetime) -> date:
    first = _local_day(calendar, since)
    return first + min(timedelta(days=SEARCH_HORIZON_DAYS), _LAST_SEARCHABLE_DAY - first)


def _open_spans(calendar: BusinessCalendar, since: datetime, last_day: date) -> Iterator[_Span]:
    """Open UTC spans ending after ``since``, in order, from local days up to ``last_day``.

    Yielded spans are disjoint but may touch. Overlaps (only possible around an autumn
    overlap, see the module docstring) are merged, which needs one span of look-ahead.
    """
    # Start a day early: a span of the previous local day may still be running at ``since``.
    day = _local_day(calendar, since) - _DAY
    pending: _Span | None = None
    while day <= last_day:
        if day not in calendar.holidays:
            for span in _day_spans(calendar.zone, calendar.intervals_on(day.isoweekday()), day):
                if span[1] <= since:
                    continue
                if pending is None:
                    pending = span
                elif span[0] < pending[1]:
                    pending = (pending[0], max(pending[1], span[1]))
                else:
                    yield pending
                    pending = span
        day += _DAY
    if pending is not None:
        yield pending


# Day spans are pure functions of their arguments and recomputed often (every SLA on the same
# calendar walks the same days), so a bounded cache pays for itself.
@lru_cache(maxsize=8192)
def _day_spans(
    zone: ZoneInfo, intervals: tuple[OpeningInterval, ...], day: date
) -> tuple[_Span, ...]:
    spans: list[_Span] = []
    for interval in intervals:
        start = _wall_to_utc(zone, datetime.combine(day, interval.start), later=False)
        if interval.ends_at_midnight:
            end_wall = datetime.combine(day + _DAY, _MIDNIGHT)
        else:
            end_wall = datetime.combine(day, interval.end)
        end = _wall_to_utc(zone, end_wall, later=True)
        # An interval lying wholly inside a spring gap never happens on that day.
        if end > start:
            spans.append((start, end))
    return tuple(spans)


def _wall_to_utc(zone: ZoneInfo, wall: datetime, *, later: bool) -> datetime:
    """Map a naive local wall time to UTC.

    Ambiguous wall times resolve to the first occurrence, or the second one if ``later``.
    Wall times skipped by a spring-forward jump resolve to the instant of the jump.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    # zoneinfo uses the pre-transition offset for fold=0 and the post-transition one for
    # fold=1. In a gap the post offset is larger, which puts fold=1 *earlier* in UTC.
    if second < first:
        return _transition_instant(zone, second, first)
    return second if later else first


def _transition_instant(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The UTC instant in ``(before, after]`` where the zone's offset changes."""
    # tzdata transitions fall on whole seconds, so bisect over integer seconds since the epoch.
    low = (before - _EPOCH) // _SECOND
    high = -((_EPOCH - after) // _SECOND)
    target = after.astimezone(zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if (_EPOCH + middle * _SECOND).astimezone(zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return _EPOCH + high * _SECOND

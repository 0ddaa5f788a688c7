"""The rules of one SLA clock, as pure functions of stored times and the ``now`` passed in.

A clock counts *clock time*: business time on its calendar, or plain elapsed time (an
always-open calendar) for calendar-minute targets. Pauses are kept as the clock time they
took (``paused_total``), which makes every deadline a single addition from ``started_at``:

    breach_at = started_at + (target + paused_total)      (in clock time)

so nothing depends on when, or in which process, the deadline was last computed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from helpdesk_api.models import SlaMetricStatus
from helpdesk_api.sla.business_time import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
)

ALWAYS_OPEN = BusinessCalendar.always_open()
ACTIVE, PAUSED = SlaMetricStatus.active.value, SlaMetricStatus.paused.value
ACHIEVED, BREACHED = SlaMetricStatus.achieved.value, SlaMetricStatus.breached.value


@dataclass(frozen=True)
class Target:
    """What a clock measures against: the target and the calendar its minutes are counted on."""

    minutes: int
    calendar: BusinessCalendar
    pause_on: frozenset[str]
    warning_fraction: float = 0.75

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Clock:
    status: str
    started_at: datetime
    paused_at: datetime | None = None
    paused_total: timedelta = timedelta(0)
    breach_at: datetime | None = None
    warning_at: datetime | None = None
    achieved_at: datetime | None = None
    breached_at: datetime | None = None
    warned: bool = False
    breach_notified: bool = False

    @property
    def running(self) -> bool:
        """Still waiting for what it measures (a breached clock runs until fulfilled)."""
        if self.status == ACTIVE:
            return True
        return self.status == BREACHED and self.achieved_at is None

    @property
    def waiting(self) -> bool:
        """Running or paused: what it measures has not happened yet."""
        return self.status == PAUSED or self.running

    @property
    def due_at(self) -> datetime | None:
        """When the worker must next look at this clock: its warning, then its breach."""
        if self.status == ACTIVE:
            return self.breach_at if self.warned else self.warning_at or self.breach_at
        if self.status == BREACHED and not self.breach_notified:
            return self.breach_at
        return None

    def status_at(self, now: datetime) -> str:
        """The status as of ``now``, even if the worker has not yet recorded a breach."""
        if self.status == ACTIVE and self.breach_at is not None and self.breach_at <= now:
            return BREACHED
        return self.status


def _add(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime | None:
    # None when the calendar has no such amount of open time within the search horizon (ten
    # years): such a clock never breaches, rather than failing the ticket change.
    try:
        return add_business_time(calendar, start, duration)
    except ValueError:
        return None


def _between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    return business_time_between(calendar, start, end)


def _schedule(clock: Clock, target: Target) -> Clock:
    breach_at = _add(target.calendar, clock.started_at, target.duration + clock.paused_total)
    warning_at = _add(
        target.calendar,
        clock.started_at,
        target.duration * target.warning_fraction + clock.paused_total,
    )
    return replace(clock, status=ACTIVE, paused_at=None, breach_at=breach_at, warning_at=warning_at)


def start(target: Target, started_at: datetime, now: datetime, *, category: str) -> Clock:
    """A clock running since ``started_at``, paused at ``now`` if the ticket's status category
    pauses it."""
    clock = _schedule(Clock(status=ACTIVE, started_at=started_at), target)
    return apply_category(clock, target, category, now)


def pause(clock: Clock, now: datetime) -> Clock:
    if clock.status != ACTIVE:
        return clock
    if clock.breach_at is not None and clock.breach_at <= now:
        return _mark_breached(clock)  # too late to stop: it already breached
    return replace(clock, status=PAUSED, paused_at=now, breach_at=None, warning_at=None)


def resume(clock: Clock, target: Target, now: datetime) -> Clock:
    if clock.status != PAUSED or clock.paused_at is None:
        return clock
    paused = _between(target.calendar, clock.paused_at, now)
    return _schedule(replace(clock, paused_total=clock.paused_total + paused), target)


def apply_category(clock: Clock, target: Target, category: str, now: datetime) -> Clock:
    """Pause or resume as the ticket's status category says."""
    if category in target.pause_on:
        return pause(clock, now)
    return resume(clock, target, now)


def fulfil(clock: Clock, now: datetime) -> Clock:
    """What the clock waited for happened: achieved in time, or breached late."""
    if clock.status == ACTIVE and clock.breach_at is not None and clock.breach_at <= now:
        clock = _mark_breached(clock)
    if clock.status in (ACTIVE, PAUSED):
        return replace(clock, status=ACHIEVED, achieved_at=now, paused_at=None)
    if clock.status == BREACHED and clock.achieved_at is None:
        return replace(clock, achieved_at=now)
    return clock


def reopen(clock: Clock, target: Target, now: datetime, *, category: str) -> Clock:
    """Run a fulfilled clock again from where it stood: the time since it stopped is a pause."""
    if clock.achieved_at is None:
        return clock
    stopped = _between(target.calendar, clock.achieved_at, now)
    if clock.status == BREACHED:
        return replace(clock, achieved_at=None)
    reopened = _schedule(
        replace(clock, achieved_at=None, paused_total=clock.paused_total + stopped), target
    )
    return apply_category(reopened, target, category, now)


def retarget(clock: Clock, old: Target, new: Target, now: datetime) -> Clock:
    """Apply another target (a re-chosen policy, a new priority) keeping the time consumed."""
    if clock.status not in (ACTIVE, PAUSED):
        return clock
    until = clock.paused_at or now
    consumed = _between(old.calendar, clock.started_at, until) - clock.paused_total
    paused_total = max(timedelta(0), _between(new.calendar, clock.started_at, until) - consumed)
    moved = replace(clock, paused_total=paused_total)
    if clock.status == PAUSED:
        return moved
    return _schedule(moved, new)


def record_warning(clock: Clock) -> Clock:
    return replace(clock, warned=True)


def record_breach(clock: Clock) -> Clock:
    """The worker announced the breach: never again for this cycle."""
    if clock.status == ACTIVE:
        clock = _mark_breached(clock)
    return replace(clock, warned=True, breach_notified=True)


def _mark_breached(clock: Clock) -> Clock:
    return replace(clock, status=BREACHED, breached_at=clock.breach_at)

"""The clock rules as pure functions: stored times and a `now` in, a new clock out."""

from datetime import UTC, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from helpdesk_api.sla import clock
from helpdesk_api.sla.business_time import (
    BusinessCalendar,
    OpeningInterval,
    business_time_between,
)
from helpdesk_api.sla.clock import ALWAYS_OPEN, Target

ROME = BusinessCalendar(
    "Europe/Rome", tuple(OpeningInterval(d, time(9), time(17)) for d in range(1, 6))
)
MONDAY_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Rome
PAUSING = frozenset({"pending", "on_hold"})


def hour_target(calendar: BusinessCalendar = ROME, pause_on: frozenset[str] = PAUSING) -> Target:
    return Target(minutes=60, calendar=calendar, pause_on=pause_on, warning_fraction=0.75)


def test_started_clock_breaches_after_its_target_in_business_time():
    started = clock.start(hour_target(), MONDAY_10, MONDAY_10, category="open")
    assert started.status == "active"
    assert started.breach_at == MONDAY_10 + timedelta(hours=1)
    assert started.warning_at == MONDAY_10 + timedelta(minutes=45)
    assert started.due_at == started.warning_at


def test_clock_started_before_the_weekend_breaches_on_monday():
    friday_1630 = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    started = clock.start(hour_target(), friday_1630, friday_1630, category="new")
    assert started.breach_at == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


def test_clock_started_in_a_pausing_category_is_paused_without_deadline():
    started = clock.start(hour_target(), MONDAY_10, MONDAY_10, category="pending")
    assert started.status == "paused"
    assert started.breach_at is None
    assert started.due_at is None


def test_pause_then_resume_moves_the_deadline_by_the_business_time_paused():
    running = clock.start(hour_target(), MONDAY_10, MONDAY_10, category="open")
    paused = clock.pause(running, MONDAY_10 + timedelta(minutes=20))
    # Paused overnight: from 10:20 Monday to 10:00 Tuesday is 7h40m of business time.
    resumed = clock.resume(paused, hour_target(), MONDAY_10 + timedelta(days=1))
    assert resumed.paused_total == timedelta(hours=7, minutes=40)
    assert resumed.breach_at == MONDAY_10 + timedelta(days=1, minutes=40)


def test_pausing_after_the_deadline_records_the_breach_instead():
    running = clock.start(hour_target(), MONDAY_10, MONDAY_10, category="open")
    late = clock.pause(running, MONDAY_10 + timedelta(hours=2))
    assert late.status == "breached"
    assert late.breached_at == running.breach_at
    assert late.due_at == running.breach_at  # the worker still has to announce it


def test_category_outside_pause_on_keeps_the_clock_running():
    target = hour_target(pause_on=frozenset({"on_hold"}))
    running = clock.start(target, MONDAY_10, MONDAY_10, category="open")
    assert clock.apply_category(running, target, "pending", MONDAY_10).status == "active"
    assert clock.apply_category(running, target, "on_hold", MONDAY_10).status == "paused"


def test_fulfilled_in_time_is_achieved():
    running = clock.start(hour_target(), MONDAY_10, MONDAY_10, category="open")
    done = clock.fulfil(running, MONDAY_10 + timedelta(minutes=30))
    assert (done.status, done.achieved_at) == ("achieved", MONDAY_10 + timedelta(minutes=30))
    assert done.due_at is None


def test_fulfilled_late_is_breached_and_still_announced():
    running = clock.start(hour_target(), MONDAY_10, MONDAY_10, category="open")
    done = clock.fulfil(running, MONDAY_10 + timedelta(hours=3))
    assert done.status == "breached"
    assert done.breached_at == MONDAY_10 + timedelta(hours=1)
    assert done.achieved_at == MONDAY_10 + timedelta(hours=3)
    assert not done.running
    assert done.due_at == done.breach_at


def test_reopening_runs_on_from_where_the_clock_stood():
    running = clock.start(hour_target(), MONDAY_10, MONDAY_10, category="open")
    solved = clock.fulfil(running, MONDAY_10 + timedelta(minutes=20))
    reopened = clock.reopen(solved, hour_target(), MONDAY_10 + timedelta(hours=2), category="open")
    assert reopened.status == "active"
    assert reopened.achieved_at is None
    # 40 minutes were left when it was solved; they count from the reopening.
    assert reopened.breach_at == MONDAY_10 + timedelta(hours=2, minutes=40)


def test_retarget_keeps_the_time_already_consumed():
    running = clock.start(hour_target(), MONDAY_10, MONDAY_10, category="open")
    two_hours = Target(120, ALWAYS_OPEN, PAUSING)
    moved = clock.retarget(running, hour_target(), two_hours, MONDAY_10 + timedelta(minutes=30))
    assert moved.started_at == MONDAY_10
    assert moved.breach_at == MONDAY_10 + timedelta(hours=2)


def test_retarget_onto_another_calendar_keeps_consumed_business_time():
    # Started Friday 16:30 Rome: 30 business minutes consumed by Saturday noon.
    friday_1630 = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    saturday_noon = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    running = clock.start(hour_target(), friday_1630, friday_1630, category="open")
    around_the_clock = Target(60, ALWAYS_OPEN, PAUSING)
    moved = clock.retarget(running, hour_target(), around_the_clock, saturday_noon)
    assert moved.breach_at == saturday_noon + timedelta(minutes=30)


def test_warning_then_breach_are_each_due_once():
    running = clock.start(hour_target(), MONDAY_10, MONDAY_10, category="open")
    warned = clock.record_warning(running)
    assert warned.due_at == running.breach_at
    breached = clock.record_breach(warned)
    assert breached.status == "breached"
    assert breached.due_at is None


def test_status_at_reports_a_passed_deadline_as_breached():
    running = clock.start(hour_target(), MONDAY_10, MONDAY_10, category="open")
    assert running.status_at(MONDAY_10 + timedelta(minutes=59)) == "active"
    assert running.status_at(MONDAY_10 + timedelta(hours=1)) == "breached"


def test_target_beyond_the_search_horizon_never_breaches():
    one_hour_a_week = BusinessCalendar("UTC", (OpeningInterval(1, time(9), time(10)),))
    target = Target(525_600, one_hour_a_week, PAUSING)
    started = clock.start(target, MONDAY_10, MONDAY_10, category="open")
    assert started.breach_at is None
    assert started.due_at is None


@given(
    pause_after=st.integers(min_value=0, max_value=59),
    pause_for=st.integers(min_value=0, max_value=60 * 24 * 14),
)
def test_pausing_never_changes_the_business_time_to_breach(pause_after, pause_for):
    target = hour_target()
    running = clock.start(target, MONDAY_10, MONDAY_10, category="open")
    paused = clock.pause(running, MONDAY_10 + timedelta(minutes=pause_after))
    resumed = clock.resume(paused, target, MONDAY_10 + timedelta(minutes=pause_after + pause_for))
    assert resumed.breach_at is not None
    counted = business_time_between(ROME, MONDAY_10, resumed.breach_at) - resumed.paused_total
    assert counted == timedelta(hours=1)

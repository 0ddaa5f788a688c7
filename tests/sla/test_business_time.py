"""Business-hours arithmetic: hand-worked instants plus properties over random calendars.

Expected instants are worked out by hand and written in UTC; comments give the local view.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_api.sla.business_time import (
    BusinessCalendar,
    OpeningInterval,
    add_business_minutes,
    business_minutes_between,
    business_time_between,
    is_open,
    next_opening,
)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
MICROSECOND = timedelta(microseconds=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def office(zone: str, opens: time, closes: time, *holidays: date) -> BusinessCalendar:
    """Monday-Friday, one interval a day."""
    hours = tuple(OpeningInterval(day, opens, closes) for day in range(1, 6))
    return BusinessCalendar(zone, hours, frozenset(holidays))


def sun(zone: str, *spans: tuple[time, time]) -> BusinessCalendar:
    """Sunday only: every clock change used below happens on a Sunday."""
    return BusinessCalendar(zone, tuple(OpeningInterval(7, a, b) for a, b in spans))


ROME = office("Europe/Rome", time(9), time(17))
ROME_SPLIT = BusinessCalendar(
    "Europe/Rome",
    office("Europe/Rome", time(9), time(12, 30)).hours
    + office("Europe/Rome", time(13, 30), time(18)).hours,
)
ROME_XMAS = office("Europe/Rome", time(9), time(17), date(2026, 12, 25))  # a Friday
ROME_WEDNESDAY_OFF = office("Europe/Rome", time(9), time(17), date(2026, 1, 14))
NIGHT_SHIFT = BusinessCalendar(
    "Europe/Rome", (OpeningInterval(1, time(22), time(0)), OpeningInterval(2, time(0), time(2)))
)
TOUCHING = BusinessCalendar(
    "Europe/Rome",
    (
        OpeningInterval(1, time(9), time(12)),
        OpeningInterval(1, time(12), time(0)),
        OpeningInterval(2, time(0), time(0)),
    ),
)
SPARSE = BusinessCalendar(  # one minute a week, all of 2026 off
    "Europe/Rome",
    (OpeningInterval(1, time(9), time(9, 1)),),
    frozenset(date(2026, 1, 1) + timedelta(days=i) for i in range(365)),
)
KIRITIMATI = office("Pacific/Kiritimati", time(9), time(17))  # UTC+14
PAGO_PAGO = office("Pacific/Pago_Pago", time(9), time(17))  # UTC-11
AUCKLAND = office("Pacific/Auckland", time(9), time(17), date(2026, 2, 6))  # NZDT, UTC+13
SAO_PAULO = office("America/Sao_Paulo", time(8), time(18))  # UTC-3, no DST

# Rome: 2026-03-29 02:00 -> 03:00 and 2026-10-25 03:00 -> 02:00, both at 01:00Z.
# New York: 2026-03-08 02:00 -> 03:00 (07:00Z) and 2026-11-01 02:00 -> 01:00 (06:00Z).
# Azores: 2026-03-29 00:00 -> 01:00 and 2026-10-25 01:00 -> 00:00, both at 01:00Z.
ROME_DST = sun("Europe/Rome", (time(1), time(4)))
NY_DST = sun("America/New_York", (time(1), time(4)))
ENDS_IN_REPEAT = sun("Europe/Rome", (time(0), time(2, 30)))
STARTS_IN_REPEAT = sun("Europe/Rome", (time(2, 30), time(4)))
TOUCH_IN_REPEAT = sun("Europe/Rome", (time(1), time(2, 30)), (time(2, 30), time(4)))
STARTS_IN_GAP = sun("Europe/Rome", (time(2, 30), time(5)))
ENDS_IN_GAP = sun("Europe/Rome", (time(1), time(2, 30)))
INSIDE_GAP = sun("Europe/Rome", (time(2), time(2, 45)))
AZORES_SATURDAY = BusinessCalendar("Atlantic/Azores", (OpeningInterval(6, time(0), time(0)),))
AZORES_SUNDAY = sun("Atlantic/Azores", (time(0), time(0)))


@pytest.mark.parametrize(
    ("cal", "start", "minutes", "expected"),
    [
        # Fri 16:00 CET: 60 min to close, 60 from Mon 09:00 CET.
        pytest.param(ROME, utc(2026, 1, 16, 15), 120, utc(2026, 1, 19, 9), id="fri-to-monday"),
        # Same, but Monday is already summer time: 10:00 CEST is 08:00Z.
        pytest.param(ROME, utc(2026, 3, 27, 15), 120, utc(2026, 3, 30, 8), id="fri-to-cest-mon"),
        # Wed 12:00: 30 min before lunch, 30 after 13:30.
        pytest.param(ROME_SPLIT, utc(2026, 1, 14, 11), 60, utc(2026, 1, 14, 13), id="lunch-skip"),
        pytest.param(ROME_XMAS, utc(2026, 12, 24, 15), 120, utc(2026, 12, 28, 9), id="christmas"),
        # Tue 16:30: 30 min on Tuesday, Wednesday off, 30 min on Thursday.
        pytest.param(
            ROME_WEDNESDAY_OFF, utc(2026, 1, 13, 15, 30), 60, utc(2026, 1, 15, 8, 30), id="holiday"
        ),
        pytest.param(ROME, utc(2026, 1, 17, 10), 30, utc(2026, 1, 19, 8, 30), id="weekend-start"),
        pytest.param(ROME, utc(2026, 1, 14, 6), 30, utc(2026, 1, 14, 8, 30), id="early-start"),
        pytest.param(ROME, utc(2026, 1, 14, 8), 480, utc(2026, 1, 14, 16), id="ends-at-closing"),
        # 100,000 min = 208 days + 160 min: Mon 2026-01-05 + 41 weeks + 3 days, 11:40 CEST.
        pytest.param(ROME, utc(2026, 1, 5, 8), 100_000, utc(2026, 10, 22, 9, 40), id="100k-min"),
        # Mon 23:00 + 120 crosses midnight without a gap.
        pytest.param(NIGHT_SHIFT, utc(2026, 1, 19, 22), 120, utc(2026, 1, 20, 0), id="midnight"),
        pytest.param(TOUCHING, utc(2026, 1, 19, 10), 1440, utc(2026, 1, 20, 10), id="touching"),
        pytest.param(SPARSE, utc(2026, 1, 1), 1, utc(2027, 1, 4, 8, 1), id="year-of-holidays"),
        # Mon 09:00 local is Sunday 19:00Z.
        pytest.param(KIRITIMATI, utc(2026, 1, 18, 18), 60, utc(2026, 1, 18, 20), id="kiritimati"),
        # Fri 16:00 local (Sat 03:00Z) + 120: Mon 10:00 local.
        pytest.param(PAGO_PAGO, utc(2026, 1, 17, 3), 120, utc(2026, 1, 19, 21), id="pago-pago"),
        # Thu 16:00 NZDT + 120, Friday is Waitangi Day: Mon 10:00 NZDT.
        pytest.param(AUCKLAND, utc(2026, 2, 5, 3), 120, utc(2026, 2, 8, 21), id="auckland"),
        pytest.param(SAO_PAULO, utc(2026, 1, 16, 20), 120, utc(2026, 1, 19, 12), id="sao-paulo"),
        pytest.param(ROME_DST, utc(2026, 3, 28, 12), 120, utc(2026, 3, 29, 2), id="rome-spring"),
        # One minute more spills into next Sunday, 01:00 CEST.
        pytest.param(ROME_DST, utc(2026, 3, 28, 12), 121, utc(2026, 4, 4, 23, 1), id="spill"),
        pytest.param(ROME_DST, utc(2026, 10, 24, 12), 240, utc(2026, 10, 25, 3), id="rome-fall"),
        # 01:00 EST is 06:00Z, the jump to 03:00 EDT is at 07:00Z, then 30 more minutes.
        pytest.param(NY_DST, utc(2026, 3, 7, 12), 90, utc(2026, 3, 8, 7, 30), id="ny-spring"),
        pytest.param(NY_DST, utc(2026, 10, 31, 12), 240, utc(2026, 11, 1, 9), id="ny-fall"),
        pytest.param(
            ENDS_IN_REPEAT, utc(2026, 10, 24, 12), 210, utc(2026, 10, 25, 1, 30), id="end-2nd-pass"
        ),
        pytest.param(
            TOUCH_IN_REPEAT, utc(2026, 10, 24, 12), 240, utc(2026, 10, 25, 3), id="no-double-count"
        ),
        pytest.param(ENDS_IN_GAP, utc(2026, 3, 28, 12), 60, utc(2026, 3, 29, 1), id="end-in-gap"),
    ],
)
def test_add_business_minutes_lands_on_hand_worked_instant(
    cal: BusinessCalendar, start: datetime, minutes: int, expected: datetime
) -> None:
    assert add_business_minutes(cal, start, minutes) == expected


@pytest.mark.parametrize(
    ("cal", "at", "expected"),
    [
        pytest.param(ROME, utc(2026, 1, 14, 10), utc(2026, 1, 14, 10), id="open-is-itself"),
        pytest.param(ROME, utc(2026, 1, 14, 16), utc(2026, 1, 15, 8), id="closing-is-closed"),
        pytest.param(KIRITIMATI, utc(2026, 1, 18, 18), utc(2026, 1, 18, 19), id="kiritimati"),
        # 01:00 happens twice on 2026-11-01; a start takes the first (EDT, 05:00Z).
        pytest.param(NY_DST, utc(2026, 10, 31, 12), utc(2026, 11, 1, 5), id="ny-start-1st-pass"),
        pytest.param(
            STARTS_IN_REPEAT, utc(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30), id="start-1st-pass"
        ),
        # The missing 02:30 maps to the jump, 01:00Z (03:00 CEST).
        pytest.param(STARTS_IN_GAP, utc(2026, 3, 28, 12), utc(2026, 3, 29, 1), id="gap-start"),
        # Nothing happens that day; next Sunday 02:00 CEST.
        pytest.param(INSIDE_GAP, utc(2026, 3, 28, 12), utc(2026, 4, 5, 0), id="inside-gap"),
        pytest.param(AZORES_SUNDAY, utc(2026, 3, 28, 12), utc(2026, 3, 29, 1), id="no-midnight"),
    ],
)
def test_next_opening(cal: BusinessCalendar, at: datetime, expected: datetime) -> None:
    assert next_opening(cal, at) == expected


@pytest.mark.parametrize(
    ("cal", "at", "expected"),
    [
        pytest.param(ROME, utc(2026, 1, 14, 8), True, id="opening-instant-is-open"),
        pytest.param(ROME, utc(2026, 1, 14, 16), False, id="closing-instant-is-closed"),
        pytest.param(KIRITIMATI, utc(2026, 1, 18, 19, 30), True, id="kiritimati-utc-sunday"),
        pytest.param(KIRITIMATI, utc(2026, 1, 16, 19, 30), False, id="kiritimati-utc-friday"),
        pytest.param(PAGO_PAGO, utc(2026, 1, 17, 3, 30), True, id="pago-pago-utc-saturday"),
        pytest.param(AUCKLAND, utc(2026, 2, 5, 21), False, id="auckland-local-holiday"),
        pytest.param(ENDS_IN_GAP, utc(2026, 3, 29, 1), False, id="gap-end-closes-at-jump"),
        # Sunday 00:30 (first pass) still belongs to Saturday, which runs to the second 00:00.
        pytest.param(AZORES_SATURDAY, utc(2026, 10, 25, 0, 30), True, id="repeated-midnight"),
    ],
)
def test_is_open(cal: BusinessCalendar, at: datetime, expected: bool) -> None:
    assert is_open(cal, at) is expected


@pytest.mark.parametrize(
    ("cal", "saturday", "expected"),
    [
        pytest.param(ROME_DST, date(2026, 3, 28), 2 * HOUR, id="rome-spring-01-04-is-2h"),
        pytest.param(ROME_DST, date(2026, 10, 24), 4 * HOUR, id="rome-autumn-01-04-is-4h"),
        pytest.param(NY_DST, date(2026, 3, 7), 2 * HOUR, id="new-york-spring-01-04-is-2h"),
        pytest.param(NY_DST, date(2026, 10, 31), 4 * HOUR, id="new-york-autumn-01-04-is-4h"),
        # 00:00 CEST (22:00Z) .. second 02:30, CET (01:30Z).
        pytest.param(ENDS_IN_REPEAT, date(2026, 10, 24), 3.5 * HOUR, id="end-takes-2nd-pass"),
        # First 02:30, CEST (00:30Z) .. 04:00 CET (03:00Z).
        pytest.param(STARTS_IN_REPEAT, date(2026, 10, 24), 2.5 * HOUR, id="start-takes-1st-pass"),
        pytest.param(TOUCH_IN_REPEAT, date(2026, 10, 24), 4 * HOUR, id="overlap-counted-once"),
        pytest.param(STARTS_IN_GAP, date(2026, 3, 28), 2 * HOUR, id="gap-start-is-the-jump"),
        pytest.param(ENDS_IN_GAP, date(2026, 3, 28), 1 * HOUR, id="gap-end-is-the-jump"),
        pytest.param(INSIDE_GAP, date(2026, 3, 28), timedelta(0), id="wholly-in-gap-is-empty"),
        pytest.param(AZORES_SATURDAY, date(2026, 10, 24), 25 * HOUR, id="repeated-midnight-25h"),
        pytest.param(AZORES_SUNDAY, date(2026, 3, 28), 23 * HOUR, id="skipped-midnight-23h"),
        pytest.param(ROME_SPLIT, date(2026, 1, 17), 8 * HOUR, id="split-day-monday-8h"),
    ],
)
def test_open_time_from_saturday_for_three_days_is_real_elapsed_time(
    cal: BusinessCalendar, saturday: date, expected: timedelta
) -> None:
    since = datetime.combine(saturday, time(0), UTC)
    assert business_time_between(cal, since, since + timedelta(days=3)) == expected


def test_results_are_utc_and_zero_minutes_return_start_even_when_closed() -> None:
    saturday = datetime(2026, 1, 17, 11, tzinfo=ZoneInfo("Europe/Rome"))
    results = [add_business_minutes(ROME, saturday, n) for n in (0, 60)]
    assert results == [saturday, utc(2026, 1, 19, 9)]
    assert {r.tzinfo for r in [*results, next_opening(ROME, saturday)]} == {UTC}


def test_business_minutes_between_is_fractional_and_zero_when_reversed() -> None:
    start = utc(2026, 1, 14, 8)
    end = start + 90 * MINUTE + timedelta(seconds=30)
    assert business_minutes_between(ROME, start, end) == 90.5
    assert business_time_between(ROME, end, start) == timedelta(0)


def test_always_open_adds_plain_minutes() -> None:
    cal = BusinessCalendar.always_open()
    start = datetime(2026, 12, 31, 23, 59, 30, 17, tzinfo=UTC)
    assert add_business_minutes(cal, start, 525_600) == start + 525_600 * MINUTE
    assert business_time_between(cal, start, start + 3 * HOUR) == 3 * HOUR


def test_result_beyond_the_search_horizon_raises() -> None:
    with pytest.raises(ValueError, match="not available within"):
        add_business_minutes(SPARSE, utc(2026, 1, 1), 100_000)  # would take ~1,900 years


def test_calendar_without_hours_never_opens() -> None:
    empty = BusinessCalendar("Europe/Rome", ())
    with pytest.raises(ValueError, match="no opening hours"):
        add_business_minutes(empty, utc(2026, 1, 14), 1)
    with pytest.raises(ValueError, match="no opening hours"):
        next_opening(empty, utc(2026, 1, 14))
    assert not is_open(empty, utc(2026, 1, 14, 10))
    assert business_time_between(empty, utc(2026, 1, 1), utc(2027, 1, 1)) == timedelta(0)


NAIVE = datetime(2026, 1, 14, 10)
AWARE = utc(2026, 1, 14, 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_business_minutes(ROME, NAIVE, 10),
        lambda: add_business_minutes(ROME, NAIVE, 0),
        lambda: business_time_between(ROME, NAIVE, AWARE),
        lambda: business_time_between(ROME, AWARE, NAIVE),
        lambda: is_open(ROME, NAIVE),
        lambda: next_opening(ROME, NAIVE),
    ],
)
def test_naive_datetimes_are_rejected(call: Callable[[], Any]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_instants_outside_years_2_to_9997_are_rejected_not_mangled() -> None:
    cal = BusinessCalendar.always_open()
    late = datetime(9997, 12, 30, tzinfo=UTC)
    assert business_time_between(cal, late, late + 47 * HOUR) == 47 * HOUR
    for instant in (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)):
        with pytest.raises(ValueError, match="within years"):
            is_open(cal, instant)


def test_negative_minutes_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_minutes(ROME, AWARE, -1)


@pytest.mark.parametrize(
    ("intervals", "zone", "message"),
    [
        ([(time(9), time(13)), (time(12), time(18))], "UTC", "overlapping"),
        ([(time(13), time(18)), (time(0), time(13, 1))], "UTC", "overlapping"),
        ([(time(9), time(0)), (time(23), time(23, 30))], "UTC", "overlapping"),
        ([], "Mars/Olympus_Mons", "unknown time zone"),
    ],
)
def test_invalid_calendars_are_rejected(
    intervals: list[tuple[time, time]], zone: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(zone, tuple(OpeningInterval(3, a, b) for a, b in intervals))


@pytest.mark.parametrize(
    ("weekday", "start", "end", "message"),
    [
        (1, time(17), time(9), "before end"),
        (1, time(9), time(9), "before end"),
        (0, time(9), time(17), "weekday"),
        (8, time(9), time(17), "weekday"),
        (1, time(9, tzinfo=UTC), time(17), "naive"),
    ],
)
def test_invalid_intervals_are_rejected(weekday: int, start: time, end: time, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OpeningInterval(weekday, start, end)


def test_holidays_must_be_dates_not_datetimes() -> None:
    with pytest.raises(TypeError, match="must be dates"):
        BusinessCalendar("UTC", (), frozenset({datetime(2026, 1, 1, tzinfo=UTC)}))


# --- properties ----------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Rome",
    "America/New_York",
    "America/Sao_Paulo",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Australia/Lord_Howe",  # DST shifts by half an hour
    "Atlantic/Azores",  # DST changes at local midnight
]
# Their 2026 clock changes (Rome and Azores share theirs), so random instants land near one
# often enough.
TRANSITIONS = [
    utc(2026, *month_day_hour)
    for month_day_hour in [(3, 29, 1), (10, 25, 1), (3, 8, 7), (11, 1, 6), (4, 4, 14), (9, 26, 14)]
] + [utc(2026, 4, 4, 15), utc(2026, 10, 3, 15, 30)]
GRID = 5  # minutes; fine enough for 02:30-style boundaries
PROPERTY = settings(max_examples=150, deadline=None, database=None)

instants = st.one_of(
    st.datetimes(datetime(2025, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda anchor, seconds: anchor + timedelta(seconds=seconds),
        st.sampled_from(TRANSITIONS),
        st.integers(-30 * 3600, 30 * 3600),
    ),
)


def grid_time(step: int) -> time:
    return time(0) if step * GRID == 24 * 60 else time(*divmod(step * GRID, 60))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    hours: list[OpeningInterval] = []
    for day in sorted(draw(st.sets(st.integers(1, 7), min_size=1))):
        count = draw(st.integers(1, 3))
        cuts = draw(
            st.lists(
                st.integers(0, 24 * 60 // GRID), min_size=2 * count, max_size=2 * count, unique=True
            )
        )
        cuts.sort()
        hours += [
            OpeningInterval(day, grid_time(s), grid_time(e))
            for s, e in zip(cuts[::2], cuts[1::2], strict=True)
        ]
    holidays = draw(st.frozensets(st.dates(date(2025, 1, 1), date(2028, 12, 31)), max_size=15))
    return BusinessCalendar(draw(st.sampled_from(ZONES)), tuple(hours), holidays)


@st.composite
def calendar_and_minutes(draw: st.DrawFn) -> tuple[BusinessCalendar, int]:
    cal = draw(calendars())
    weekly = sum((iv.end_since_midnight - _since(iv.start) for iv in cal.hours), timedelta(0))
    # Keep every search within ~half a year of weeks so examples stay fast.
    return cal, draw(st.integers(0, min(20_000, weekly * 26 // MINUTE)))


def _since(value: time) -> timedelta:
    return timedelta(hours=value.hour, minutes=value.minute)


@PROPERTY
@given(calendar_and_minutes(), instants)
def test_adding_then_measuring_gives_back_exactly_the_minutes(
    case: tuple[BusinessCalendar, int], start: datetime
) -> None:
    cal, minutes = case
    end = add_business_minutes(cal, start, minutes)
    assert business_time_between(cal, start, end) == minutes * MINUTE


@PROPERTY
@given(calendar_and_minutes(), instants, st.integers(0, 2_000))
def test_more_minutes_never_end_earlier(
    case: tuple[BusinessCalendar, int], start: datetime, extra: int
) -> None:
    cal, minutes = case
    assert add_business_minutes(cal, start, minutes) <= add_business_minutes(
        cal, start, minutes + extra
    )


@PROPERTY
@given(calendar_and_minutes(), instants)
def test_positive_additions_end_right_after_open_time(
    case: tuple[BusinessCalendar, int], start: datetime
) -> None:
    cal, minutes = case
    end = add_business_minutes(cal, start, max(minutes, 1))
    assert end > start
    assert is_open(cal, end - MICROSECOND)


@PROPERTY
@given(calendars(), instants)
def test_open_instants_match_local_wall_clock_when_unambiguous(
    cal: BusinessCalendar, at: datetime
) -> None:
    local = at.astimezone(ZoneInfo(cal.time_zone))
    if local.replace(fold=1 - local.fold).astimezone(UTC) != at:
        return  # repeated hour: the module's fold rules decide, checked by unit tests
    wall = timedelta(
        hours=local.hour, minutes=local.minute, seconds=local.second, microseconds=local.microsecond
    )
    expected = local.date() not in cal.holidays and any(
        _since(iv.start) <= wall < iv.end_since_midnight
        for iv in cal.intervals_on(local.isoweekday())
    )
    assert is_open(cal, at) == expected


@PROPERTY
@given(calendars(), instants)
def test_next_opening_is_open_and_equals_at_exactly_when_open(
    cal: BusinessCalendar, at: datetime
) -> None:
    opening = next_opening(cal, at)
    assert opening >= at
    assert is_open(cal, opening)
    assert (opening == at) == is_open(cal, at)
    assert business_time_between(cal, at, opening) == timedelta(0)


@PROPERTY
@given(calendars(), instants, st.integers(0, 20 * 24 * 60), st.integers(0, 20 * 24 * 60))
def test_measured_time_is_additive(
    cal: BusinessCalendar, start: datetime, first: int, second: int
) -> None:
    middle = start + first * MINUTE
    end = middle + second * MINUTE
    whole = business_time_between(cal, start, end)
    assert whole == business_time_between(cal, start, middle) + business_time_between(
        cal, middle, end
    )
    assert timedelta(0) <= whole <= end - start


@PROPERTY
@given(instants, st.integers(0, 20_000))
def test_always_open_calendar_adds_plain_minutes(start: datetime, minutes: int) -> None:
    cal = BusinessCalendar.always_open()
    assert add_business_minutes(cal, start, minutes) == start + minutes * MINUTE

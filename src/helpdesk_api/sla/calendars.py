"""Business calendars: opening hours in a time zone, holidays. Never commits."""

from datetime import date, time
from typing import Any

import holidays as holiday_calendars
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.models import BusinessCalendar, SlaPolicy
from helpdesk_api.sla import business_time
from helpdesk_api.sla.schemas import (
    CalendarCreate,
    CalendarRead,
    CalendarUpdate,
    Holiday,
    HolidaysFrom,
    OpeningHours,
)

CALENDARS = AdminResource(
    "business_calendar", "/v1/business-calendars", BusinessCalendar, "Business calendar"
)


def _wall(value: str) -> time:
    return time(0, 0) if value == "24:00" else time.fromisoformat(value)


def to_business_calendar(row: BusinessCalendar) -> business_time.BusinessCalendar:
    """The stored calendar as the business-time arithmetic takes it."""
    if row.always_open:
        return business_time.BusinessCalendar.always_open()
    return business_time.BusinessCalendar(
        row.time_zone,
        tuple(
            business_time.OpeningInterval(h["weekday"], _wall(h["start"]), _wall(h["end"]))
            for h in row.hours
        ),
        frozenset(date.fromisoformat(h["date"]) for h in row.holidays),
    )


def to_read(row: BusinessCalendar) -> CalendarRead:
    return CalendarRead(
        id=row.id,
        name=row.name,
        time_zone=row.time_zone,
        always_open=row.always_open,
        hours=[OpeningHours.model_validate(h) for h in row.hours],
        holidays=[Holiday.model_validate(h) for h in row.holidays],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def get_calendar(
    session: AsyncSession, calendar_id: int, *, for_update: bool = False
) -> BusinessCalendar:
    return await CALENDARS.get(session, calendar_id, for_update=for_update)


async def list_calendars(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> tuple[list[BusinessCalendar], str | None]:
    return await paginate(
        session,
        select(BusinessCalendar),
        keys=[SortKey(BusinessCalendar.id, lambda c: c.id)],
        limit=limit,
        cursor=cursor,
    )


def _public_holidays(source: HolidaysFrom) -> list[dict[str, Any]]:
    try:
        found = holiday_calendars.country_holidays(
            source.country.upper(),
            subdiv=source.subdivision,
            years=sorted(set(source.years)),
            language="en_US",
        )
    except NotImplementedError as exc:
        field = "subdivision" if source.subdivision and "subdiv" in str(exc).lower() else "country"
        raise InvalidInput(
            f"The holidays package has no calendar for {field} {getattr(source, field)!r}: {exc}",
            loc=("body", "holidays_from", field),
        ) from exc
    # One entry per date: several holidays on one day are joined by name.
    return [{"date": day.isoformat(), "name": name} for day, name in sorted(found.items())]


def _merge_holidays(*sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_date: dict[str, dict[str, Any]] = {}
    for source in sources:
        for holiday in source:
            by_date.setdefault(holiday["date"], holiday)
    return [by_date[d] for d in sorted(by_date)]


def _validated(
    *, time_zone: str, always_open: bool, hours: list[dict[str, Any]], holidays: list[Any]
) -> None:
    """Refuse what the arithmetic would refuse, naming the field."""
    if always_open:
        if hours or holidays:
            field = "hours" if hours else "holidays"
            raise InvalidInput(
                "An always-open calendar has no opening hours or holidays.", loc=("body", field)
            )
    elif not hours:
        raise InvalidInput(
            "A calendar needs opening hours (or always_open: true).", loc=("body", "hours")
        )
    try:
        business_time.BusinessCalendar(time_zone, ())
    except ValueError as exc:
        raise InvalidInput(
            f"Unknown IANA time zone {time_zone!r}.", loc=("body", "time_zone")
        ) from exc
    try:
        business_time.BusinessCalendar(
            time_zone,
            tuple(
                business_time.OpeningInterval(h["weekday"], _wall(h["start"]), _wall(h["end"]))
                for h in hours
            ),
        )
    except ValueError as exc:
        raise InvalidInput(str(exc), loc=("body", "hours")) from exc


def _dump_holidays(holidays: list[Holiday]) -> list[dict[str, Any]]:
    return [h.model_dump(mode="json") for h in holidays]


async def create_calendar(
    session: AsyncSession, actor: Principal, data: CalendarCreate
) -> BusinessCalendar:
    hours = [h.model_dump() for h in data.hours]
    holidays = _merge_holidays(
        _dump_holidays(data.holidays),
        _public_holidays(data.holidays_from) if data.holidays_from else [],
    )
    _validated(
        time_zone=data.time_zone, always_open=data.always_open, hours=hours, holidays=holidays
    )
    row = BusinessCalendar(
        name=data.name,
        time_zone=data.time_zone,
        always_open=data.always_open,
        hours=hours,
        holidays=holidays,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    await CALENDARS.record_created(session, actor_id=actor.user_id, read=to_read(row))
    return row


async def update_calendar(
    session: AsyncSession, actor: Principal, row: BusinessCalendar, data: CalendarUpdate
) -> BusinessCalendar:
    """Running clocks keep the deadlines they have; each is recomputed on the calendar as it
    then is at its ticket's next clock change (pause, resume, re-targeting)."""
    fields = data.model_fields_set
    values: dict[str, Any] = {
        "name": data.name if "name" in fields else row.name,
        "time_zone": data.time_zone if "time_zone" in fields else row.time_zone,
        "always_open": data.always_open if "always_open" in fields else row.always_open,
        "hours": [h.model_dump() for h in data.hours] if "hours" in fields else row.hours,
        "holidays": _dump_holidays(data.holidays) if "holidays" in fields else row.holidays,
    }
    if values["always_open"] and "always_open" in fields:
        # Switching to always open drops what no longer applies, unless it was sent again.
        values["hours"] = values["hours"] if "hours" in fields else []
        values["holidays"] = values["holidays"] if "holidays" in fields else []
    if "holidays_from" in fields:
        values["holidays"] = _merge_holidays(
            values["holidays"], _public_holidays(data.holidays_from)
        )
    _validated(
        time_zone=values["time_zone"],
        always_open=values["always_open"],
        hours=values["hours"],
        holidays=values["holidays"],
    )
    changes = field_changes({name: getattr(row, name) for name in values}, values)
    if not changes:
        return row
    for change in changes:
        setattr(row, change["field"], change["to"])
    await session.flush()
    await session.refresh(row)
    await CALENDARS.record_updated(
        session,
        actor_id=actor.user_id,
        resource_id=row.id,
        changes=changes,
        business_calendar=to_read(row).model_dump(mode="json"),
    )
    return row


async def delete_calendar(session: AsyncSession, actor: Principal, row: BusinessCalendar) -> None:
    used = await session.scalar(select(exists().where(SlaPolicy.calendar_id == row.id)))
    if used:
        raise Conflict(
            f"Business calendar {row.id} is used by an SLA policy (active or not); "
            "give the policy another calendar first."
        )
    await session.delete(row)
    await session.flush()
    await record_event(
        session,
        EventType.business_calendar_deleted,
        actor_id=actor.user_id,
        data={"business_calendar_id": row.id},
    )

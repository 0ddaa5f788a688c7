"""Dates and labels in the recipient's language and time zone, for templates.

No CLDR library is installed, so a small table covers the built-in languages; any other
language is written as English is. Times are shown in the recipient's IANA time zone (UTC
when they have none, or an unknown one) followed by the zone's abbreviation (``CET``) or,
where the zone has none, its offset (``UTC+05:00``).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk_api.notifications.locales import language_of

DateStyle = Literal["long", "short", "date", "time"]


@dataclass(frozen=True)
class _Language:
    months: tuple[str, ...]  # as they read after a day number (genitive where it differs)
    long_date: str  # {d} {month} {y}
    short_date: str  # {d} {m} {y}: zero-padded day and month
    joiner: str  # between the date and the time in the long style


_LANGUAGES = {
    "en": _Language(
        (
            "January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December",
        ),
        "{d} {month} {y}",
        "{d}/{m}/{y}",
        ", ",
    ),
    "it": _Language(
        (
            "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
            "settembre", "ottobre", "novembre", "dicembre",
        ),
        "{d} {month} {y}",
        "{d}/{m}/{y}",
        " alle ore ",
    ),
    "ru": _Language(
        (
            "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
            "сентября", "октября", "ноября", "декабря",
        ),
        "{d} {month} {y} г.",
        "{d}.{m}.{y}",
        ", ",
    ),
    "hu": _Language(
        (
            "január", "február", "március", "április", "május", "június", "július",
            "augusztus", "szeptember", "október", "november", "december",
        ),
        "{y}. {month} {d}.",
        "{y}. {m}. {d}.",
        " ",
    ),
    "ro": _Language(
        (
            "ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie", "august",
            "septembrie", "octombrie", "noiembrie", "decembrie",
        ),
        "{d} {month} {y}",
        "{d}.{m}.{y}",
        ", ora ",
    ),
}  # fmt: skip

_PRIORITIES = {
    "en": {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"},
    "it": {"low": "Bassa", "normal": "Normale", "high": "Alta", "urgent": "Urgente"},
    "ru": {"low": "Низкий", "normal": "Обычный", "high": "Высокий", "urgent": "Срочный"},
    "hu": {"low": "Alacsony", "normal": "Normál", "high": "Magas", "urgent": "Sürgős"},
    "ro": {"low": "Scăzută", "normal": "Normală", "high": "Ridicată", "urgent": "Urgentă"},
}


def zone_of(name: str | None) -> tzinfo:
    """The IANA zone of that name; UTC for none or an unknown one."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _zone_label(value: datetime) -> str:
    name = value.tzname() or "UTC"
    if name.isalpha():
        return name
    offset = value.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def format_datetime(
    value: datetime, *, locale: str, time_zone: str | None, style: DateStyle = "long"
) -> str:
    """``28 November 2026, 14:05 CET`` (long), ``28/11/2026 14:05`` (short), the date alone
    (date) or ``14:05 CET`` (time), in ``locale``'s language and ``time_zone``. A naive
    datetime is read as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(zone_of(time_zone))
    language = _LANGUAGES.get(language_of(locale), _LANGUAGES["en"])
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if style == "short":
        date = language.short_date.format(
            d=f"{local.day:02d}", m=f"{local.month:02d}", y=local.year
        )
        return f"{date} {clock}"
    long_date = language.long_date.format(
        d=local.day, month=language.months[local.month - 1], y=local.year
    )
    if style == "date":
        return long_date
    if style == "time":
        return f"{clock} {_zone_label(local)}"
    return f"{long_date}{language.joiner}{clock} {_zone_label(local)}"


def priority_label(priority: str, *, locale: str) -> str:
    """The priority's name in ``locale``'s language; an unknown value as it is."""
    labels = _PRIORITIES.get(language_of(locale), _PRIORITIES["en"])
    return labels.get(priority, priority)

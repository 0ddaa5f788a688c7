"""A macro's comment, rendered in the notifications' guarded Jinja sandbox.

Macros see their own variables, not a notification's: the ticket with its requester
(``ticket.requester.first_name``), the SLA's due times and the agent applying the macro
(``agent.name``). Dates format in the requester's locale and time zone
(``{{ ticket.resolution_due_at|format_datetime }}``).

Saved templates are checked strictly against a sample where every variable is filled, so a
misspelt name is a 422 then; applied, they render leniently (an unknown name reads as empty)
against the real ticket, and whatever still fails is a 422 naming the macro.
"""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import TemplateSyntaxError

from helpdesk_api.notifications.locales import DEFAULT_LOCALE, language_of, locale_chain
from helpdesk_api.notifications.sandbox import (
    GuardedEnvironment,
    TemplateLimitExceeded,
    render_metered,
    size_of,
    template_line,
)
from helpdesk_api.notifications.templates import OUTPUT_ALLOWANCE, RENDER_SECONDS

_LENIENT = GuardedEnvironment(html=False, strict=False)
_STRICT = GuardedEnvironment(html=False, strict=True)

_SAMPLE_CREATED = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
SAMPLE_VARIABLES: dict[str, Any] = {
    "ticket": {
        "id": 1234,
        "subject": "The October invoice shows the wrong VAT number",
        "status": "Open",
        "status_category": "open",
        "priority": "high",
        "type": "question",
        "group_name": "Billing",
        "created_at": _SAMPLE_CREATED,
        "first_reply_due_at": _SAMPLE_CREATED + timedelta(hours=4),
        "resolution_due_at": _SAMPLE_CREATED + timedelta(days=2),
        "requester": {"id": 7, "name": "Anna Smith", "first_name": "Anna", "locale": "en"},
    },
    "agent": {"id": 3, "name": "Mark Taylor", "first_name": "Mark"},
}
SAMPLE_TIME_ZONE = "Europe/London"


class RenderProblem(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def pick_variant(
    default: str, translations: dict[str, str], locale: str | None
) -> tuple[str | None, str]:
    """(locale used or None, template): the requester's locale, then its language, then the
    default. English is tried only for an English-speaking requester: the default is the
    macro's own language, which need not be English."""
    chain = locale_chain(locale)
    if language_of(chain[0]) != DEFAULT_LOCALE:
        chain = [c for c in chain if c != DEFAULT_LOCALE]
    for tag in chain:
        if tag in translations:
            return tag, translations[tag]
    return None, default


def render(
    source: str,
    variables: dict[str, Any],
    *,
    locale: str,
    time_zone: str | None,
    strict: bool = False,
) -> str:
    """Raises ``RenderProblem``."""
    try:
        template = (_STRICT if strict else _LENIENT).compile_metered(source)
        return render_metered(
            template,
            variables,
            limit=OUTPUT_ALLOWANCE + 2 * size_of(variables, 10**9),
            deadline=time.monotonic() + RENDER_SECONDS,
            locale=locale,
            time_zone=time_zone,
        )
    except TemplateSyntaxError as exc:
        raise RenderProblem(exc.message or str(exc), exc.lineno) from exc
    except TemplateLimitExceeded as exc:
        raise RenderProblem(str(exc), template_line(exc)) from exc
    except Exception as exc:  # the template is its author's code: whatever it raises is theirs
        raise RenderProblem(str(exc) or type(exc).__name__, template_line(exc)) from exc


def check_template(source: str, locale: str) -> str | None:
    """Why ``source`` does not render strictly against the sample; None if it does."""
    try:
        text = render(
            source, SAMPLE_VARIABLES, locale=locale, time_zone=SAMPLE_TIME_ZONE, strict=True
        )
    except RenderProblem as exc:
        return str(exc)
    return None if text.strip() else "renders empty"

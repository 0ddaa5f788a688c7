"""Rendering a notification: which wording applies, and turning it into subject, text, HTML.

The wording for (event, locale) is looked for along ``locale_chain(locale)`` — the locale,
its language, English — taking at each step an admin's override, then the built-in one: so
an override for ``pt`` also serves ``pt-BR``, and the built-in Italian serves ``it-IT``.

Two ways to render (``sandbox.py`` has what a template may do):

* **checking** (``check_template``, when an admin saves or previews a draft): strict, against
  the sample contexts; any problem is a ``TemplateProblem`` naming the part and the line.
* **sending** (``render``): lenient (an unknown name reads as empty) and never failing
  because of an admin's template: if the override cannot be rendered, the built-in wording
  is used and the problem logged.
"""

import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

from jinja2 import Template, TemplateSyntaxError
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.html import sanitize_html
from helpdesk_api.models import NotificationTemplate
from helpdesk_api.notifications.builtin import TemplateSource, builtin_template
from helpdesk_api.notifications.context import (
    SAMPLE_TICKET_ID,
    NotificationContext,
    sample_context,
)
from helpdesk_api.notifications.events import Audience, NotificationEvent
from helpdesk_api.notifications.locales import locale_chain
from helpdesk_api.notifications.sandbox import (
    GuardedEnvironment,
    TemplateLimitExceeded,
    render_metered,
    size_of,
    template_line,
)

logger = logging.getLogger("helpdesk_api.notifications")

# What a template may write of its own, on top of twice the text of its context (a long
# comment quoted in full is never what breaks the limit).
OUTPUT_ALLOWANCE = 100_000
# For the three parts of one notification together.
RENDER_SECONDS = 1.0
SUBJECT_MAX_CHARS = 900

Part = Literal["subject", "text_body", "html_body"]


class TemplateOrigin(StrEnum):
    custom = "custom"
    builtin = "builtin"


@dataclass(frozen=True)
class EffectiveTemplate:
    """The wording that applies to an (event, locale): whose, and in which locale."""

    source: TemplateSource
    locale: str
    origin: TemplateOrigin
    row: NotificationTemplate | None = None


@dataclass(frozen=True)
class Rendered:
    """A notification ready to be composed into a message.

    ``subject`` is one line (customer notices always carry ``[#id]``); ``html`` is None
    when the wording has no HTML part (send text/plain only); ``locale`` is the wording's
    (for ``Content-Language``); ``origin`` says whether an admin's wording was used."""

    subject: str
    text: str
    html: str | None
    locale: str
    origin: TemplateOrigin


class TemplateProblem(Exception):
    """A template that cannot be rendered: which part, where, and why."""

    def __init__(self, part: Part, message: str, *, line: int | None, kind: str) -> None:
        self.part = part
        self.line = line
        self.kind = kind
        self.message = message
        super().__init__(f"{part}, line {line}: {message}" if line else f"{part}: {message}")


_ENVIRONMENTS = {
    (html, strict): GuardedEnvironment(html=html, strict=strict)
    for html in (False, True)
    for strict in (False, True)
}


@lru_cache(maxsize=128)
def _compiled_for_sending(source: str, *, html: bool) -> Template:
    # Saved and built-in wording, compiled once per process; checks compile afresh, so
    # drafts never crowd it.
    return _ENVIRONMENTS[html, False].compile_metered(source)


def _compiled(source: str, *, html: bool, strict: bool) -> Template:
    if strict:
        return _ENVIRONMENTS[html, True].compile_metered(source)
    return _compiled_for_sending(source, html=html)


def _variables(context: NotificationContext, *, html: bool) -> dict[str, Any]:
    variables = context.model_dump()
    if html and context.comment is not None:
        # Sanitised on the way in already; again here, so no caller can slip raw HTML in.
        variables["comment"]["html"] = Markup(sanitize_html(context.comment.html))  # noqa: S704
    return variables


def _one_line(value: str) -> str:
    return " ".join(value.split())[:SUBJECT_MAX_CHARS].rstrip()


def _render_part(
    part: Part,
    source: str,
    variables: dict[str, Any],
    *,
    html: bool,
    strict: bool,
    limit: int,
    deadline: float,
    locale: str,
    time_zone: str | None,
) -> str:
    try:
        template = _compiled(source, html=html, strict=strict)
        return render_metered(
            template, variables, limit=limit, deadline=deadline, locale=locale, time_zone=time_zone
        )
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            part, exc.message or str(exc), line=exc.lineno, kind="syntax"
        ) from exc
    except TemplateLimitExceeded as exc:
        raise TemplateProblem(part, str(exc), line=template_line(exc), kind="limit") from exc
    except Exception as exc:  # the template is the admin's code: whatever it raises is theirs
        message = str(exc) or type(exc).__name__
        raise TemplateProblem(part, message, line=template_line(exc), kind="error") from exc


def render_template(
    source: TemplateSource,
    context: NotificationContext,
    *,
    locale: str,
    strict: bool = False,
) -> tuple[str, str, str | None]:
    """Subject (one line), text and HTML of ``source`` for ``context``, dates in
    ``locale``'s language. Raises ``TemplateProblem``."""
    text_variables = _variables(context, html=False)
    limit = OUTPUT_ALLOWANCE + 2 * size_of(text_variables, 10**9)
    common: dict[str, Any] = {
        "strict": strict,
        "limit": limit,
        "deadline": time.monotonic() + RENDER_SECONDS,
        "locale": locale,
        "time_zone": context.recipient.time_zone,
    }
    subject = _one_line(
        _render_part("subject", source.subject, text_variables, html=False, **common)
    )
    text = _render_part("text_body", source.text_body, text_variables, html=False, **common)
    html = None
    if source.html_body is not None:
        html_variables = _variables(context, html=True)
        html = _render_part("html_body", source.html_body, html_variables, html=True, **common)
    return subject, text, html


def subject_with_token(subject: str, event: NotificationEvent, ticket_id: int) -> str:
    """A customer notice's subject always carries ``[#id]``: replies find their ticket by
    it when a mail client drops the threading headers."""
    token = f"[#{ticket_id}]"
    if event.audience is Audience.customer and token not in subject:
        return f"{token} {subject}".rstrip()
    return subject


def check_template(event: NotificationEvent, locale: str, source: TemplateSource) -> None:
    """Refuses, as a ``TemplateProblem``, wording that does not render strictly against the
    sample context (once with every field, once with the optional ones null), renders an
    empty subject or text, or drops the ``[#id]`` token from a customer notice's subject."""
    full = sample_context(event, locale)
    sparse = full.model_copy(
        update={
            "ticket": full.ticket.model_copy(update={"url": None, "group_name": None}),
            "actor_name": None,
            "mailbox_name": None,
            "previous_status": None,
        }
    )
    for context in (full, sparse):
        subject, text, _ = render_template(source, context, locale=locale, strict=True)
        if not subject:
            raise TemplateProblem("subject", "the subject renders empty", line=None, kind="empty")
        if not text.strip():
            raise TemplateProblem("text_body", "the text renders empty", line=None, kind="empty")
        if event.audience is Audience.customer and f"[#{SAMPLE_TICKET_ID}]" not in subject:
            raise TemplateProblem(
                "subject",
                "a customer notice's subject keeps the ticket token [#{{ ticket.id }}]: "
                "replies find their ticket by it",
                line=None,
                kind="token",
            )


def resolve(
    event: NotificationEvent, locale: str, overrides: dict[str, NotificationTemplate]
) -> EffectiveTemplate:
    """The wording for ``locale`` given the admin's overrides of ``event`` by locale."""
    for candidate in locale_chain(locale):
        row = overrides.get(candidate)
        if row is not None:
            return EffectiveTemplate(
                TemplateSource(row.subject, row.text_body, row.html_body),
                candidate,
                TemplateOrigin.custom,
                row,
            )
        builtin = builtin_template(event, candidate)
        if builtin is not None:
            return EffectiveTemplate(builtin, candidate, TemplateOrigin.builtin)
    raise RuntimeError(f"no built-in English wording for {event}")  # the package ships it


async def effective_template(
    session: AsyncSession, event: NotificationEvent, locale: str | None
) -> EffectiveTemplate:
    chain = locale_chain(locale)
    rows = await session.scalars(
        select(NotificationTemplate).where(
            NotificationTemplate.event == event.value, NotificationTemplate.locale.in_(chain)
        )
    )
    return resolve(event, chain[0], {row.locale: row for row in rows})


def _rendered(
    effective: EffectiveTemplate, event: NotificationEvent, context: NotificationContext
) -> Rendered:
    subject, text, html = render_template(effective.source, context, locale=effective.locale)
    subject = subject_with_token(subject, event, context.ticket.id)
    return Rendered(subject, text, html, effective.locale, effective.origin)


async def render(
    session: AsyncSession,
    event: NotificationEvent,
    locale: str | None,
    context: NotificationContext,
) -> Rendered:
    """The notification ``event`` for the recipient of ``context``, in ``locale`` (normally
    ``context.recipient.locale``) or the nearest wording there is.

    Never fails because of an admin's template: one that cannot be rendered is logged and
    the built-in wording used instead."""
    effective = await effective_template(session, event, locale)
    if effective.origin is TemplateOrigin.custom:
        try:
            return _rendered(effective, event, context)
        except TemplateProblem as problem:
            logger.warning(
                "notification template failed; the built-in wording was used",
                extra={
                    "event": event.value,
                    "locale": effective.locale,
                    "part": problem.part,
                    "line": problem.line,
                    "error": problem.message,
                    "ticket_id": context.ticket.id,
                },
            )
    builtin = resolve(event, locale_chain(locale)[0], {})
    return _rendered(builtin, event, context)

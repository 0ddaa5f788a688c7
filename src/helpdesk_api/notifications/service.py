"""Notification templates as an admin resource: read, replace, reset, preview. Never commits.

A template is addressed by (event, locale) and exists for every pair: until an admin writes
one, it is the built-in wording (or the one its locale falls back to). So ``PUT`` creates or
replaces an override, ``DELETE`` removes it, and neither is ever a 404. The ETag is a hash of
what ``GET`` returns, which stays right across a reset and a new override (a row version
would start again at 1). Changes record ``notification_template.created`` / ``.updated`` /
``.deleted``.

``AdminResource`` is not used: it addresses rows by integer id, and these have none.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.etag import check_if_match
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import decode_cursor, encode_cursor
from helpdesk_api.core.resource import field_changes, touch
from helpdesk_api.models import NotificationTemplate
from helpdesk_api.notifications.builtin import TemplateSource, builtin_locales
from helpdesk_api.notifications.events import NotificationEvent
from helpdesk_api.notifications.locales import canonical_locale
from helpdesk_api.notifications.schemas import (
    NotificationTemplatePage,
    NotificationTemplateRead,
    NotificationTemplateWrite,
)
from helpdesk_api.notifications.templates import (
    EffectiveTemplate,
    TemplateProblem,
    check_template,
    effective_template,
    resolve,
)

_FIELDS = ("subject", "text_body", "html_body")
_ORDERING = "event,locale"
_EVENT_ORDER = {event: index for index, event in enumerate(NotificationEvent)}


@dataclass(frozen=True)
class TemplateView:
    read: NotificationTemplateRead
    etag: str


def _view(event: NotificationEvent, locale: str, effective: EffectiveTemplate) -> TemplateView:
    customised = effective.row is not None and effective.locale == locale
    read = NotificationTemplateRead(
        event=event,
        locale=locale,
        audience=event.audience,
        customised=customised,
        source=effective.origin,
        source_locale=effective.locale,
        subject=effective.source.subject,
        text_body=effective.source.text_body,
        html_body=effective.source.html_body,
        updated_at=effective.row.updated_at if effective.row is not None else None,
    )
    digest = hashlib.sha256(
        json.dumps(read.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()[:20]
    return TemplateView(read, f'"notification_template-{event.value}-{locale}-{digest}"')


def problem_as_input_error(problem: TemplateProblem) -> NoReturn:
    """A template that cannot be used is a 422 at the part's place in the body."""
    raise InvalidInput(
        f"The {problem.part} template cannot be used: {problem}.",
        loc=("body", problem.part),
        type=f"template_{problem.kind}",
    ) from problem


async def _locked_row(
    session: AsyncSession, event: NotificationEvent, locale: str
) -> NotificationTemplate | None:
    return await session.scalar(
        select(NotificationTemplate)
        .where(NotificationTemplate.event == event.value, NotificationTemplate.locale == locale)
        .with_for_update()
    )


async def get_template(
    session: AsyncSession, event: NotificationEvent, locale: str
) -> TemplateView:
    locale = canonical_locale(locale)
    return _view(event, locale, await effective_template(session, event, locale))


async def list_templates(
    session: AsyncSession,
    *,
    event: NotificationEvent | None,
    customised: bool | None,
    limit: int,
    cursor: str | None,
) -> NotificationTemplatePage:
    """Every event in every locale that has built-in wording or an override, ordered by
    event (as the enum lists them), then locale. Small and bounded by what admins wrote, so
    it is built in memory; the cursor is still a keyset (event, locale)."""
    rows = list(await session.scalars(select(NotificationTemplate)))
    locales = sorted(set(builtin_locales()) | {row.locale for row in rows})
    overrides: dict[str, dict[str, NotificationTemplate]] = {}
    for row in rows:
        overrides.setdefault(row.event, {})[row.locale] = row
    after: tuple[int, str] | None = None
    if cursor:
        last_event, last_locale = decode_cursor(cursor, _ORDERING, 2)
        try:
            after = (_EVENT_ORDER[NotificationEvent(last_event)], str(last_locale))
        except ValueError as exc:
            raise InvalidInput(
                "The cursor is not valid here.", loc=("query", "cursor"), type="cursor_invalid"
            ) from exc
    page: list[NotificationTemplateRead] = []
    next_cursor = None
    for kind in NotificationEvent if event is None else [event]:
        for locale in locales:
            if after is not None and (_EVENT_ORDER[kind], locale) <= after:
                continue
            effective = resolve(kind, locale, overrides.get(kind.value, {}))
            read = _view(kind, locale, effective).read
            if customised is not None and read.customised is not customised:
                continue
            if len(page) == limit:
                last = page[-1]
                next_cursor = encode_cursor(_ORDERING, [last.event.value, last.locale])
                return NotificationTemplatePage(data=page, next_cursor=next_cursor)
            page.append(read)
    return NotificationTemplatePage(data=page, next_cursor=None)


def _checked_source(
    event: NotificationEvent, locale: str, data: NotificationTemplateWrite
) -> TemplateSource:
    source = TemplateSource(data.subject, data.text_body, data.html_body)
    try:
        check_template(event, locale, source)
    except TemplateProblem as problem:
        problem_as_input_error(problem)
    return source


async def replace_template(
    session: AsyncSession,
    principal: Principal,
    event: NotificationEvent,
    locale: str,
    data: NotificationTemplateWrite,
    if_match: str | None,
) -> TemplateView:
    """Creates or replaces the override of (event, locale), once it renders strictly against
    the sample context."""
    locale = canonical_locale(locale)
    source = _checked_source(event, locale, data)
    row = await _locked_row(session, event, locale)
    if row is None:
        check_if_match(if_match, (await get_template(session, event, locale)).etag)
        # A concurrent PUT may insert the same pair: the loser waits for it, inserts
        # nothing, and then updates the winner's row below.
        row_id = await session.scalar(
            insert(NotificationTemplate)
            .values(
                event=event.value,
                locale=locale,
                subject=source.subject,
                text_body=source.text_body,
                html_body=source.html_body,
            )
            .on_conflict_do_nothing(constraint="uq_notification_templates_event_locale")
            .returning(NotificationTemplate.id)
        )
        if row_id is not None:
            view = await get_template(session, event, locale)
            await record_event(
                session,
                EventType.notification_template_created,
                actor_id=principal.user_id,
                data={"notification_template": view.read.model_dump(mode="json")},
            )
            return view
        row = await _locked_row(session, event, locale)
        assert row is not None
    before = await get_template(session, event, locale)
    check_if_match(if_match, before.etag)
    wanted: dict[str, str | None] = {
        "subject": source.subject,
        "text_body": source.text_body,
        "html_body": source.html_body,
    }
    changes = field_changes({name: getattr(row, name) for name in _FIELDS}, wanted, fields=_FIELDS)
    if not changes:
        return before
    for change in changes:
        setattr(row, change["field"], change["to"])
    touch(row)
    await session.flush()
    await session.refresh(row)
    view = await get_template(session, event, locale)
    await record_event(
        session,
        EventType.notification_template_updated,
        actor_id=principal.user_id,
        data={
            "event": event.value,
            "locale": locale,
            "changes": changes,
            "notification_template": view.read.model_dump(mode="json"),
        },
    )
    return view


async def reset_template(
    session: AsyncSession,
    principal: Principal,
    event: NotificationEvent,
    locale: str,
    if_match: str | None,
) -> None:
    """Removes the override of (event, locale), if any: the built-in wording (or the one
    the locale falls back to) applies again."""
    locale = canonical_locale(locale)
    row = await _locked_row(session, event, locale)
    current = await get_template(session, event, locale)
    check_if_match(if_match, current.etag)
    if row is None:
        return
    await session.delete(row)
    await session.flush()
    await record_event(
        session,
        EventType.notification_template_deleted,
        actor_id=principal.user_id,
        data={"notification_template": current.read.model_dump(mode="json")},
    )

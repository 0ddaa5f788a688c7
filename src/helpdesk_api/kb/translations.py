"""Translations of an article, their revisions, and the outdated flag. Never commits.

Every write that changes a translation's title, body or status keeps a revision of the
result; a change of the source locale's title or body flags the other translations
``outdated`` until they are written again.
"""

from datetime import datetime
from typing import Any

from fastapi import Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput, NotFound
from helpdesk_api.core.etag import check_if_match, make_etag
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.html import sanitize_html, text_of
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import Change, field_changes, touch
from helpdesk_api.kb.articles import ARTICLES
from helpdesk_api.kb.inline_images import check_inline_images
from helpdesk_api.kb.translation_schemas import RevisionRead, TranslationRead
from helpdesk_api.models import KbArticle, KbRevision, KbTranslation, TranslationStatus

_BODY_LOC = ("body", "body")


def etag(translation: KbTranslation) -> str:
    return make_etag("article_translation", translation.id, translation.version)


def set_etag(response: Response, translation: KbTranslation) -> None:
    response.headers["ETag"] = etag(translation)


def translation_read(translation: KbTranslation) -> TranslationRead:
    return TranslationRead.model_validate(translation, from_attributes=True)


def revision_read(revision: KbRevision) -> RevisionRead:
    return RevisionRead.model_validate(revision, from_attributes=True)


async def find(
    session: AsyncSession, article_id: int, locale: str, *, for_update: bool = False
) -> KbTranslation | None:
    statement = select(KbTranslation).where(
        KbTranslation.article_id == article_id, KbTranslation.locale == locale
    )
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement.execution_options(populate_existing=True))


async def get(
    session: AsyncSession, article_id: int, locale: str, *, for_update: bool = False
) -> KbTranslation:
    """404 names what is missing: the article, or its translation in the locale."""
    translation = await find(session, article_id, locale, for_update=for_update)
    if translation is None:
        await ARTICLES.get(session, article_id)
        raise NotFound(f"Article {article_id} has no translation in {locale}.")
    return translation


async def list_translations(
    session: AsyncSession, article_id: int, *, limit: int, cursor: str | None
) -> tuple[list[KbTranslation], str | None]:
    await ARTICLES.get(session, article_id)
    return await paginate(
        session,
        select(KbTranslation).where(KbTranslation.article_id == article_id),
        keys=[SortKey(KbTranslation.locale, lambda t: t.locale)],
        limit=limit,
        cursor=cursor,
        ordering="locale",
    )


def clean_body(body: str) -> tuple[str, str]:
    """The sanitised HTML and its plain text; 422 when sanitising leaves no text."""
    html = sanitize_html(body)
    text = text_of(html)
    if not text and "<img" not in html:
        raise InvalidInput("The body has no content once sanitised.", loc=_BODY_LOC)
    return html, text


async def write(
    session: AsyncSession,
    actor: Principal,
    *,
    article_id: int,
    locale: str,
    fields: dict[str, Any],
    if_match: str | None,
    now: datetime,
    restored_from: KbRevision | None = None,
) -> tuple[KbTranslation, bool]:
    """Creates or changes the translation; returns it and whether it was created.

    ``fields``: any of ``title``, ``body`` (client HTML), ``status``. A new translation
    needs a title and a body, and is a draft unless told otherwise.
    """
    # The article's row lock serialises writers of its translations (and the outdated flags).
    article = await ARTICLES.get(session, article_id, for_update=True)
    translation = await find(session, article_id, locale, for_update=True)
    created = translation is None
    if translation is not None:
        check_if_match(if_match, etag(translation))
    elif if_match is not None and if_match.strip() != "*":
        check_if_match(if_match, '"none"')
    values = dict(fields)
    if "body" in values and restored_from is None:
        values["body"], body_text = clean_body(values["body"])
        await check_inline_images(session, translation, article_id, values["body"])
    elif "body" in values:
        body_text = text_of(values["body"])
    if "status" in values:
        values["status"] = TranslationStatus(values["status"]).value
    if translation is None:
        translation = KbTranslation(
            article_id=article_id,
            locale=locale,
            title=values["title"],
            body=values["body"],
            body_text=body_text,
            status=values.get("status", TranslationStatus.draft.value),
            author_id=actor.user_id,
            published_at=now if values.get("status") == TranslationStatus.published else None,
        )
        session.add(translation)
        before: dict[str, Any] = {}
        changes = field_changes(before, values, fields=("title", "body", "status"))
        changes = [c if c["field"] != "body" else {**c, "to": None} for c in changes]
    else:
        before = {name: getattr(translation, name) for name in values}
        changes = field_changes(before, values, redacted=("body",))
        if not changes:
            return translation, False
        for name in values:
            setattr(translation, name, values[name])
        if "body" in values:
            translation.body_text = body_text
        translation.author_id = actor.user_id
        published = values.get("status") == TranslationStatus.published
        if published and before["status"] != TranslationStatus.published:
            translation.published_at = now
    content_changed = any(c["field"] in ("title", "body") for c in changes)
    if content_changed:
        translation.outdated = False
    await session.flush()
    if content_changed and locale == article.source_locale:
        await _flag_outdated(session, article)
    touch(article)
    session.add(
        KbRevision(
            translation_id=translation.id,
            title=translation.title,
            body=translation.body,
            status=translation.status,
            author_id=actor.user_id,
            restored_from_id=restored_from.id if restored_from else None,
        )
    )
    await session.flush()
    await session.refresh(translation)
    await _record(session, actor, article, translation, changes, created, restored_from)
    return translation, created


async def _flag_outdated(session: AsyncSession, article: KbArticle) -> None:
    await session.execute(
        update(KbTranslation)
        .where(
            KbTranslation.article_id == article.id,
            KbTranslation.locale != article.source_locale,
            KbTranslation.outdated.is_(False),
        )
        .values(outdated=True, version=KbTranslation.version + 1)
        .execution_options(synchronize_session=False)
    )


async def _record(
    session: AsyncSession,
    actor: Principal,
    article: KbArticle,
    translation: KbTranslation,
    changes: list[Change],
    created: bool,
    restored_from: KbRevision | None,
) -> None:
    extra: dict[str, Any] = {"locale": translation.locale}
    if restored_from is not None:
        extra["restored_revision_id"] = restored_from.id
    await ARTICLES.record_updated(
        session, actor_id=actor.user_id, resource_id=article.id, changes=changes, **extra
    )
    status_change = next((c for c in changes if c["field"] == "status"), None)
    if status_change is None:
        return
    data = {"article_id": article.id, "locale": translation.locale}
    if status_change["to"] == TranslationStatus.published:
        read = translation_read(translation).model_dump(mode="json")
        await record_event(
            session,
            EventType.article_published,
            actor_id=actor.user_id,
            data={**data, "translation": read},
        )
    elif status_change["to"] == TranslationStatus.archived and not created:
        await record_event(session, EventType.article_archived, actor_id=actor.user_id, data=data)


async def delete(
    session: AsyncSession, actor: Principal, *, article_id: int, locale: str, if_match: str | None
) -> None:
    article = await ARTICLES.get(session, article_id, for_update=True)
    translation = await get(session, article_id, locale, for_update=True)
    check_if_match(if_match, etag(translation))
    await session.delete(translation)
    touch(article)
    await session.flush()
    await record_event(
        session,
        EventType.article_translation_deleted,
        actor_id=actor.user_id,
        data={"article_id": article_id, "locale": locale},
    )


async def list_revisions(
    session: AsyncSession, article_id: int, locale: str, *, limit: int, cursor: str | None
) -> tuple[list[KbRevision], str | None]:
    """Newest first."""
    translation = await get(session, article_id, locale)
    return await paginate(
        session,
        select(KbRevision).where(KbRevision.translation_id == translation.id),
        keys=[SortKey(KbRevision.id, lambda r: r.id, descending=True)],
        limit=limit,
        cursor=cursor,
        ordering="-id",
    )


async def restore(
    session: AsyncSession,
    actor: Principal,
    *,
    article_id: int,
    locale: str,
    revision_id: int,
    if_match: str | None,
    now: datetime,
) -> KbTranslation:
    """Writes the revision's title and body again (the status stays): a new revision."""
    translation = await get(session, article_id, locale)
    revision = await session.scalar(
        select(KbRevision).where(
            KbRevision.id == revision_id, KbRevision.translation_id == translation.id
        )
    )
    if revision is None:
        raise NotFound(f"Revision {revision_id} is not one of this translation's.")
    restored, _ = await write(
        session,
        actor,
        article_id=article_id,
        locale=locale,
        fields={"title": revision.title, "body": revision.body},
        if_match=if_match,
        now=now,
        restored_from=revision,
    )
    return restored

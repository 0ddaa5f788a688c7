"""Reads of the public self-service API: categories, sections, published articles."""

from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from helpdesk_api.core.errors import NotFound
from helpdesk_api.core.pagination import paginate
from helpdesk_api.kb import search
from helpdesk_api.kb.inline_images import public_path
from helpdesk_api.kb.public_schemas import (
    PublicArticlePage,
    PublicArticleRead,
    PublicArticleSummary,
    PublicAttachment,
    PublicCategoryPage,
    PublicCategoryRead,
    PublicSectionPage,
    PublicSectionRead,
    SuggestedArticle,
)
from helpdesk_api.kb.search import Audience, Filters, Hit
from helpdesk_api.kb.structure import by_position, sections_statement
from helpdesk_api.models import (
    ArticleVisibility,
    Attachment,
    KbArticle,
    KbAttachment,
    KbCategory,
    KbSection,
    KbTranslation,
)


def _readable_articles_in(audience: Audience, section_ids: Any) -> ColumnElement[bool]:
    return (
        search.readable(audience, Filters()).where(KbArticle.section_id.in_(section_ids)).exists()
    )


# A category or section with nothing the caller may read is not shown: its name may be as
# internal as its articles.
def _category_readable(audience: Audience) -> ColumnElement[bool]:
    inner = aliased(KbSection)
    return _readable_articles_in(
        audience,
        # Correlated two levels up, which SQLAlchemy does only when told.
        select(inner.id).where(inner.category_id == KbCategory.id).correlate(KbCategory),
    )


def _section_readable(audience: Audience) -> ColumnElement[bool]:
    inner = aliased(KbSection)
    return _readable_articles_in(
        audience,
        select(inner.id)
        .where(or_(inner.id == KbSection.id, inner.parent_id == KbSection.id))
        .correlate(KbSection),
    )


def named(row: KbCategory | KbSection, locale: str | None) -> dict[str, Any]:
    """``name``, ``description`` and ``locale`` in ``locale``, a locale of its language,
    or the defaults."""
    names: dict[str, Any] = row.translations or {}
    chosen = None
    if locale is not None:
        language = locale.split("-")[0]
        chosen = (
            locale
            if locale in names
            else next((k for k in sorted(names) if k.split("-")[0] == language), None)
        )
    if chosen is None:
        return {"name": row.name, "description": row.description, "locale": None}
    entry = names[chosen]
    return {"name": entry["name"], "description": entry.get("description"), "locale": chosen}


async def categories(
    session: AsyncSession,
    audience: Audience,
    *,
    locale: str | None,
    limit: int,
    cursor: str | None,
) -> PublicCategoryPage:
    rows, next_cursor = await paginate(
        session,
        select(KbCategory).where(_category_readable(audience)),
        keys=by_position(KbCategory),
        limit=limit,
        cursor=cursor,
        ordering="position",
    )
    return PublicCategoryPage(
        data=[PublicCategoryRead(id=r.id, position=r.position, **named(r, locale)) for r in rows],
        next_cursor=next_cursor,
    )


async def sections(
    session: AsyncSession,
    audience: Audience,
    *,
    category_id: int | None,
    parent_id: int | None,
    locale: str | None,
    limit: int,
    cursor: str | None,
) -> PublicSectionPage:
    rows, next_cursor = await paginate(
        session,
        sections_statement(category_id=category_id, parent_id=parent_id).where(
            _section_readable(audience)
        ),
        keys=by_position(KbSection),
        limit=limit,
        cursor=cursor,
        ordering="position",
    )
    return PublicSectionPage(
        data=[
            PublicSectionRead(
                id=r.id,
                category_id=r.category_id,
                parent_id=r.parent_id,
                position=r.position,
                **named(r, locale),
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )


def summary(hit: Hit) -> PublicArticleSummary:
    return PublicArticleSummary(
        id=hit.article.id,
        locale=hit.translation.locale,
        title=hit.translation.title,
        snippet=hit.snippet,
        matched=hit.matched,
        section_id=hit.article.section_id,
        labels=hit.article.labels,
        promoted=hit.article.promoted,
        updated_at=hit.translation.updated_at,
    )


async def articles(
    session: AsyncSession,
    audience: Audience,
    filters: Filters,
    *,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> PublicArticlePage:
    hits, next_cursor = await search.search(
        session, audience, filters, q=q, limit=limit, cursor=cursor
    )
    return PublicArticlePage(data=[summary(h) for h in hits], next_cursor=next_cursor)


def _preference(locale: str | None, source_locale: str, candidate: str) -> tuple[int, str]:
    """Lower is better: the locale asked for, its language, the source locale, any."""
    if locale is not None and candidate == locale:
        return (0, candidate)
    if locale is not None and candidate.split("-")[0] == locale.split("-")[0]:
        return (1, candidate)
    if candidate == source_locale:
        return (2, candidate)
    return (3, candidate)


async def article(
    session: AsyncSession, audience: Audience, article_id: int, *, locale: str | None
) -> PublicArticleRead:
    """The article in the best published locale for ``locale``; 404 when the caller may read
    none (unknown, internal, signed-in only, or not published)."""
    rows = (
        await session.execute(
            search.readable(audience, Filters()).where(KbTranslation.article_id == article_id)
        )
    ).all()
    if not rows:
        raise NotFound(f"Article {article_id} does not exist.")
    if locale is not None and not any(r.KbTranslation.locale == locale for r in rows):
        language = locale.split("-")[0]
        if not any(r.KbTranslation.locale.split("-")[0] == language for r in rows):
            # The client asked for a language the article lacks: say so rather than guess.
            raise NotFound(f"Article {article_id} is not published in {locale}.")
    best = min(
        rows, key=lambda r: _preference(locale, r.KbArticle.source_locale, r.KbTranslation.locale)
    )
    translation, found = best.KbTranslation, best.KbArticle
    files = await session.scalars(
        select(Attachment)
        .join(KbAttachment, KbAttachment.attachment_id == Attachment.id)
        .where(KbAttachment.translation_id == translation.id)
        .order_by(Attachment.id)
    )
    return PublicArticleRead(
        id=found.id,
        locale=translation.locale,
        title=translation.title,
        body=translation.body,
        section_id=found.section_id,
        labels=found.labels,
        promoted=found.promoted,
        locales=sorted(r.KbTranslation.locale for r in rows),
        helpful_count=found.helpful_count,
        unhelpful_count=found.unhelpful_count,
        published_at=translation.published_at,
        updated_at=translation.updated_at,
        attachments=[
            PublicAttachment(
                id=a.id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                url=public_path(found.id, a.id),
            )
            for a in files
        ],
    )


def suggested(hit: Hit) -> SuggestedArticle:
    locale = hit.translation.locale
    if hit.article.visibility == ArticleVisibility.internal:
        url = f"/v1/kb/articles/{hit.article.id}/translations/{locale}"
    else:
        url = f"/v1/public/kb/articles/{hit.article.id}?locale={locale}"
    return SuggestedArticle(
        id=hit.article.id, locale=locale, title=hit.translation.title, snippet=hit.snippet, url=url
    )

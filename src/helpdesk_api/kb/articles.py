"""Articles: where they live, who may read them, labels, order. Their text is in
``translations``. Never commits: the request path does."""

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.kb.schemas import ArticleCreate, ArticleRead, ArticleUpdate, TranslationSummary
from helpdesk_api.kb.structure import by_position
from helpdesk_api.models import (
    ArticleVisibility,
    KbArticle,
    KbSection,
    KbTranslation,
    TranslationStatus,
)

ARTICLES = AdminResource(
    "article",
    "/v1/kb/articles",
    KbArticle,
    "Article",
    options=(selectinload(KbArticle.translations),),
)


def unique_labels(labels: list[str]) -> list[str]:
    """In the order given, each once (labels compare exactly, as ticket tags do)."""
    return list(dict.fromkeys(labels))


def article_read(article: KbArticle) -> ArticleRead:
    return ArticleRead(
        id=article.id,
        section_id=article.section_id,
        source_locale=article.source_locale,
        visibility=ArticleVisibility(article.visibility),
        labels=article.labels,
        author_id=article.author_id,
        position=article.position,
        promoted=article.promoted,
        helpful_count=article.helpful_count,
        unhelpful_count=article.unhelpful_count,
        translations=[
            TranslationSummary(
                locale=t.locale,
                title=t.title,
                status=TranslationStatus(t.status),
                outdated=t.outdated,
                updated_at=t.updated_at,
            )
            for t in article.translations
        ],
        created_at=article.created_at,
        updated_at=article.updated_at,
    )


async def reload(session: AsyncSession, article_id: int) -> KbArticle:
    """The article and its translations as the database has them now (after a write)."""
    article = await session.scalar(
        select(KbArticle)
        .where(KbArticle.id == article_id)
        .options(selectinload(KbArticle.translations))
        .execution_options(populate_existing=True)
    )
    assert article is not None
    return article


async def _check_section(session: AsyncSession, section_id: int) -> None:
    if await session.get(KbSection, section_id) is None:
        raise InvalidInput(
            f"Section {section_id} does not exist.",
            loc=("body", "section_id"),
            type="unknown_section",
        )


def articles_statement(
    *,
    section_id: int | None,
    category_id: int | None,
    label: str | None,
    visibility: ArticleVisibility | None,
    locale: str | None,
    status: TranslationStatus | None,
) -> Select[Any]:
    statement = select(KbArticle).options(selectinload(KbArticle.translations))
    if section_id is not None:
        statement = statement.where(KbArticle.section_id == section_id)
    if category_id is not None:
        statement = statement.where(
            KbArticle.section_id.in_(
                select(KbSection.id).where(KbSection.category_id == category_id)
            )
        )
    if label is not None:
        statement = statement.where(KbArticle.labels.contains([label]))
    if visibility is not None:
        statement = statement.where(KbArticle.visibility == visibility.value)
    if locale is not None or status is not None:
        translation = select(KbTranslation.id).where(KbTranslation.article_id == KbArticle.id)
        if locale is not None:
            translation = translation.where(KbTranslation.locale == locale)
        if status is not None:
            translation = translation.where(KbTranslation.status == status.value)
        statement = statement.where(translation.exists())
    return statement


async def list_articles(
    session: AsyncSession, statement: Select[Any], *, limit: int, cursor: str | None
) -> tuple[list[KbArticle], str | None]:
    return await paginate(
        session,
        statement,
        keys=by_position(KbArticle),
        limit=limit,
        cursor=cursor,
        ordering="position",
    )


async def create_article(session: AsyncSession, actor: Principal, data: ArticleCreate) -> KbArticle:
    await _check_section(session, data.section_id)
    article = KbArticle(
        section_id=data.section_id,
        source_locale=data.source_locale,
        visibility=data.visibility.value,
        labels=unique_labels(data.labels or []),
        author_id=actor.user_id,
        position=data.position or 0,
        promoted=bool(data.promoted),
    )
    session.add(article)
    await session.flush()
    article = await reload(session, article.id)
    await ARTICLES.record_created(session, actor_id=actor.user_id, read=article_read(article))
    return article


async def update_article(
    session: AsyncSession, actor: Principal, article: KbArticle, data: ArticleUpdate
) -> KbArticle:
    fields = data.model_dump(exclude_unset=True, mode="json")
    if "labels" in fields:
        fields["labels"] = unique_labels(fields["labels"])
    changes = field_changes({name: getattr(article, name) for name in fields}, fields)
    if not changes:
        return article
    if "section_id" in fields:
        await _check_section(session, fields["section_id"])
    for change in changes:
        setattr(article, change["field"], change["to"])
    await session.flush()
    article = await reload(session, article.id)
    await ARTICLES.record_updated(
        session, actor_id=actor.user_id, resource_id=article.id, changes=changes, locale=None
    )
    return article


async def delete_article(session: AsyncSession, actor: Principal, article: KbArticle) -> None:
    """Deletes the article with its translations, revisions and votes."""
    await session.delete(article)
    await session.flush()
    await record_event(
        session, EventType.article_deleted, actor_id=actor.user_id, data={"article_id": article.id}
    )

"""Staff API of the knowledge base: categories and sections (admins write), articles
(agents and admins write; admins delete), and a ticket's suggested articles."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from helpdesk_api.core.auth import Admin, Agent, Authenticated, Staff
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.kb import articles, structure, suggestions
from helpdesk_api.kb.articles import ARTICLES, article_read
from helpdesk_api.kb.locales import LocaleQuery
from helpdesk_api.kb.public_schemas import SuggestionList
from helpdesk_api.kb.schemas import (
    ArticleCreate,
    ArticlePage,
    ArticleRead,
    ArticleUpdate,
    CategoryCreate,
    CategoryPage,
    CategoryRead,
    CategoryUpdate,
    SectionCreate,
    SectionPage,
    SectionRead,
    SectionUpdate,
)
from helpdesk_api.kb.structure import CATEGORIES, SECTIONS, category_read, section_read
from helpdesk_api.models import ArticleVisibility, TranslationStatus

router = APIRouter(prefix="/v1", tags=["knowledge-base"], route_class=TransactionalRoute)

OptionalId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


@router.get("/kb/categories")
async def list_categories(
    session: DB, principal: Staff, limit: Limit = 50, cursor: Cursor = None
) -> CategoryPage:
    """By position, then id."""
    rows, next_cursor = await structure.list_categories(session, limit=limit, cursor=cursor)
    return CategoryPage(data=[category_read(c) for c in rows], next_cursor=next_cursor)


@router.post("/kb/categories", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_category(
    data: CategoryCreate, session: DB, principal: Admin, response: Response
) -> CategoryRead:
    category = await structure.create_category(session, principal, data)
    CATEGORIES.set_created(response, category)
    return category_read(category)


@router.get("/kb/categories/{category_id}")
async def get_category(
    category_id: ResourceId, session: DB, principal: Staff, response: Response
) -> CategoryRead:
    category = await CATEGORIES.get(session, category_id)
    CATEGORIES.set_etag(response, category)
    return category_read(category)


@router.patch("/kb/categories/{category_id}")
async def update_category(
    category_id: ResourceId,
    data: CategoryUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> CategoryRead:
    category = await CATEGORIES.get_for_write(session, category_id, if_match)
    updated = await structure.update_category(session, principal, category, data)
    CATEGORIES.set_etag(response, updated)
    return category_read(updated)


@router.delete("/kb/categories/{category_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_category(
    category_id: ResourceId, session: DB, principal: Admin, if_match: IfMatch = None
) -> None:
    """Only an empty category (409 while it has sections)."""
    category = await CATEGORIES.get_for_write(session, category_id, if_match)
    await structure.delete_category(session, principal, category)


@router.get("/kb/sections")
async def list_sections(
    session: DB,
    principal: Staff,
    category_id: OptionalId = None,
    parent_id: OptionalId = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SectionPage:
    """By position, then id."""
    rows, next_cursor = await structure.list_sections(
        session, category_id=category_id, parent_id=parent_id, limit=limit, cursor=cursor
    )
    return SectionPage(data=[section_read(s) for s in rows], next_cursor=next_cursor)


@router.post("/kb/sections", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_section(
    data: SectionCreate, session: DB, principal: Admin, response: Response
) -> SectionRead:
    """An unknown category, a parent that is itself a subsection or of another category:
    422 at the field."""
    section = await structure.create_section(session, principal, data)
    SECTIONS.set_created(response, section)
    return section_read(section)


@router.get("/kb/sections/{section_id}")
async def get_section(
    section_id: ResourceId, session: DB, principal: Staff, response: Response
) -> SectionRead:
    section = await SECTIONS.get(session, section_id)
    SECTIONS.set_etag(response, section)
    return section_read(section)


@router.patch("/kb/sections/{section_id}")
async def update_section(
    section_id: ResourceId,
    data: SectionUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> SectionRead:
    section = await SECTIONS.get_for_write(session, section_id, if_match)
    updated = await structure.update_section(session, principal, section, data)
    SECTIONS.set_etag(response, updated)
    return section_read(updated)


@router.delete("/kb/sections/{section_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_section(
    section_id: ResourceId, session: DB, principal: Admin, if_match: IfMatch = None
) -> None:
    """Only an empty section (409 while it has subsections or articles)."""
    section = await SECTIONS.get_for_write(session, section_id, if_match)
    await structure.delete_section(session, principal, section)


@router.get("/kb/articles")
async def list_articles(
    session: DB,
    principal: Staff,
    section_id: OptionalId = None,
    category_id: OptionalId = None,
    label: Annotated[str | None, Query(max_length=100)] = None,
    visibility: ArticleVisibility | None = None,
    locale: LocaleQuery = None,
    status: TranslationStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ArticlePage:
    """Every article, drafts and internal ones included, by position then id. `locale` and
    `status`: articles with a translation in that locale and/or status."""
    statement = articles.articles_statement(
        section_id=section_id,
        category_id=category_id,
        label=label,
        visibility=visibility,
        locale=locale,
        status=status,
    )
    rows, next_cursor = await articles.list_articles(session, statement, limit=limit, cursor=cursor)
    return ArticlePage(data=[article_read(a) for a in rows], next_cursor=next_cursor)


@router.post("/kb/articles", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_article(
    data: ArticleCreate, session: DB, principal: Agent, response: Response
) -> ArticleRead:
    """The article without text: write its translations with
    `PUT /v1/kb/articles/{id}/translations/{locale}`. Agents and admins."""
    article = await articles.create_article(session, principal, data)
    ARTICLES.set_created(response, article)
    return article_read(article)


@router.get("/kb/articles/{article_id}")
async def get_article(
    article_id: ResourceId, session: DB, principal: Staff, response: Response
) -> ArticleRead:
    article = await ARTICLES.get(session, article_id)
    ARTICLES.set_etag(response, article)
    return article_read(article)


@router.patch("/kb/articles/{article_id}")
async def update_article(
    article_id: ResourceId,
    data: ArticleUpdate,
    session: DB,
    principal: Agent,
    response: Response,
    if_match: IfMatch = None,
) -> ArticleRead:
    article = await ARTICLES.get_for_write(session, article_id, if_match)
    updated = await articles.update_article(session, principal, article, data)
    ARTICLES.set_etag(response, updated)
    return article_read(updated)


@router.delete("/kb/articles/{article_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_article(
    article_id: ResourceId, session: DB, principal: Admin, if_match: IfMatch = None
) -> None:
    """Deletes it with its translations, revisions and votes (admins). To withdraw an
    article and keep it, archive its translations."""
    article = await ARTICLES.get_for_write(session, article_id, if_match)
    await articles.delete_article(session, principal, article)


@router.get("/tickets/{ticket_id}/suggested-articles")
async def suggested_articles(
    ticket_id: ResourceId,
    session: DB,
    principal: Authenticated,
    limit: Annotated[int, Query(ge=1, le=20, description="At most 20.")] = 5,
) -> SuggestionList:
    """Published articles that may answer the ticket, best first: from its subject, first
    comment, tags (an article sharing a label ranks higher) and locale (the ticket's, else
    its requester's, else `en`). Staff get every visibility (`url` of an internal article
    is its staff path); the ticket's customer public and signed-in ones. 404 for a ticket
    the caller may not see."""
    return await suggestions.for_ticket(session, principal, ticket_id, limit=limit)

"""Staff API of article translations and their revisions (agents and admins write)."""

from fastapi import APIRouter, Response, status

from helpdesk_api.core.auth import Agent, Staff
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.kb import translations
from helpdesk_api.kb.locales import LocalePath
from helpdesk_api.kb.translation_schemas import (
    RevisionPage,
    TranslationPage,
    TranslationRead,
    TranslationUpdate,
    TranslationWrite,
)
from helpdesk_api.kb.translations import revision_read, set_etag, translation_read

router = APIRouter(
    prefix="/v1/kb/articles/{article_id}/translations",
    tags=["knowledge-base"],
    route_class=TransactionalRoute,
)


@router.get("")
async def list_translations(
    article_id: ResourceId,
    session: DB,
    principal: Staff,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TranslationPage:
    """By locale."""
    rows, next_cursor = await translations.list_translations(
        session, article_id, limit=limit, cursor=cursor
    )
    return TranslationPage(data=[translation_read(t) for t in rows], next_cursor=next_cursor)


@router.put(
    "/{locale}",
    responses={201: {"model": TranslationRead, "description": "Created"}},
)
async def put_translation(
    article_id: ResourceId,
    locale: LocalePath,
    data: TranslationWrite,
    session: DB,
    principal: Agent,
    response: Response,
    now: Now,
    if_match: IfMatch = None,
) -> TranslationRead:
    """Creates the translation (201) or replaces its title, body and status (200). The
    body is sanitised HTML. A change of the source locale's text flags the other
    translations `outdated`; writing one clears its flag. Every change keeps a revision.
    404 for a missing article; 422 for a malformed locale; 413 past the request size."""
    translation, created = await translations.write(
        session,
        principal,
        article_id=article_id,
        locale=locale,
        fields=data.model_dump(exclude_none=True, mode="json"),
        if_match=if_match,
        now=now,
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = f"/v1/kb/articles/{article_id}/translations/{locale}"
    set_etag(response, translation)
    return translation_read(translation)


@router.get("/{locale}")
async def get_translation(
    article_id: ResourceId, locale: LocalePath, session: DB, principal: Staff, response: Response
) -> TranslationRead:
    translation = await translations.get(session, article_id, locale)
    set_etag(response, translation)
    return translation_read(translation)


@router.patch("/{locale}")
async def update_translation(
    article_id: ResourceId,
    locale: LocalePath,
    data: TranslationUpdate,
    session: DB,
    principal: Agent,
    response: Response,
    now: Now,
    if_match: IfMatch = None,
) -> TranslationRead:
    """Only the fields sent change; `status: published` publishes it."""
    await translations.get(session, article_id, locale)
    translation, _ = await translations.write(
        session,
        principal,
        article_id=article_id,
        locale=locale,
        fields=data.model_dump(exclude_unset=True, mode="json"),
        if_match=if_match,
        now=now,
    )
    set_etag(response, translation)
    return translation_read(translation)


@router.delete("/{locale}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_translation(
    article_id: ResourceId,
    locale: LocalePath,
    session: DB,
    principal: Agent,
    if_match: IfMatch = None,
) -> None:
    """Deletes the translation and its revisions."""
    await translations.delete(
        session, principal, article_id=article_id, locale=locale, if_match=if_match
    )


@router.get("/{locale}/revisions")
async def list_revisions(
    article_id: ResourceId,
    locale: LocalePath,
    session: DB,
    principal: Staff,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> RevisionPage:
    """Newest first: one per write that changed the title, body or status."""
    rows, next_cursor = await translations.list_revisions(
        session, article_id, locale, limit=limit, cursor=cursor
    )
    return RevisionPage(data=[revision_read(r) for r in rows], next_cursor=next_cursor)


@router.post("/{locale}/revisions/{revision_id}/restore")
async def restore_revision(
    article_id: ResourceId,
    locale: LocalePath,
    revision_id: ResourceId,
    session: DB,
    principal: Agent,
    response: Response,
    now: Now,
    if_match: IfMatch = None,
) -> TranslationRead:
    """Writes the revision's title and body again (the status stays), as a new revision."""
    translation = await translations.restore(
        session,
        principal,
        article_id=article_id,
        locale=locale,
        revision_id=revision_id,
        if_match=if_match,
        now=now,
    )
    set_etag(response, translation)
    return translation_read(translation)

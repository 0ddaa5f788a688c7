"""The public self-service API: no token, or a user's (then `signed_in` articles too).

Only published translations of `public` (and, signed in, `signed_in`) articles are read
here, whatever the token: staff read drafts and internal articles through `/v1/kb/`.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.core.text import LinesOrEmpty
from helpdesk_api.kb import public, suggestions, votes
from helpdesk_api.kb.caching import cached
from helpdesk_api.kb.locales import LocaleQuery
from helpdesk_api.kb.public_schemas import (
    PublicArticlePage,
    PublicArticleRead,
    PublicCategoryPage,
    PublicSectionPage,
    SuggestionList,
    SuggestRequest,
    VoteCreate,
    VoteRead,
)
from helpdesk_api.kb.search import Filters
from helpdesk_api.kb.visitors import Reader, VisitorId, audience_of, visitor_of

router = APIRouter(prefix="/v1/public/kb", tags=["public-kb"], route_class=TransactionalRoute)

OptionalId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
# A token is optional here: published as "bearer, or nothing" (FastAPI adds the bearer).
OPTIONAL_TOKEN: dict[str, Any] = {"security": [{}]}
CACHED: dict[int | str, dict[str, Any]] = {
    200: {"description": "With `ETag` and `Cache-Control` (public anonymous, else private)."},
    304: {"description": "`If-None-Match` names the current ETag."},
}
SearchText = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        description="Words to find, stemmed in `locale`'s language (`locale` required): all "
        'must match; "quoted phrases" and -excluded words as in web search. Best first, '
        "title over body. A query of only punctuation finds nothing (an empty page); over "
        "200 characters, or control characters: 422.",
    ),
    LinesOrEmpty,
]


@router.get(
    "/categories", response_model=PublicCategoryPage, responses=CACHED, openapi_extra=OPTIONAL_TOKEN
)
async def list_public_categories(
    request: Request,
    session: DB,
    reader: Reader,
    locale: LocaleQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Categories with something published you may read, by position; names and
    descriptions in `locale` (or a locale of its language) where translated."""
    page = await public.categories(
        session, audience_of(reader), locale=locale, limit=limit, cursor=cursor
    )
    return cached(request, page, signed_in=reader is not None)


@router.get(
    "/sections", response_model=PublicSectionPage, responses=CACHED, openapi_extra=OPTIONAL_TOKEN
)
async def list_public_sections(
    request: Request,
    session: DB,
    reader: Reader,
    category_id: OptionalId = None,
    parent_id: OptionalId = None,
    locale: LocaleQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Sections with something published you may read (in them or their subsections);
    names and descriptions in `locale` (or a locale of its language) where translated."""
    page = await public.sections(
        session,
        audience_of(reader),
        category_id=category_id,
        parent_id=parent_id,
        locale=locale,
        limit=limit,
        cursor=cursor,
    )
    return cached(request, page, signed_in=reader is not None)


@router.get(
    "/articles", response_model=PublicArticlePage, responses=CACHED, openapi_extra=OPTIONAL_TOKEN
)
async def list_public_articles(
    request: Request,
    session: DB,
    reader: Reader,
    q: SearchText = None,
    locale: LocaleQuery = None,
    section_id: OptionalId = None,
    category_id: OptionalId = None,
    label: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Published articles, one item per translation: without `q`, promoted first, then by
    position; with `q`, by relevance with highlighted snippets, and for a short query that
    matches nothing, titles similar to it (`matched: fuzzy`, typos)."""
    if q is not None and locale is None:
        raise InvalidInput(
            "Searching needs a locale: words are stemmed in its language.",
            loc=("query", "locale"),
            type="missing",
        )
    filters = Filters(locale=locale, section_id=section_id, category_id=category_id, label=label)
    page = await public.articles(
        session, audience_of(reader), filters, q=q, limit=limit, cursor=cursor
    )
    return cached(request, page, signed_in=reader is not None)


@router.get(
    "/articles/{article_id}",
    response_model=PublicArticleRead,
    responses=CACHED,
    openapi_extra=OPTIONAL_TOKEN,
)
async def get_public_article(
    request: Request,
    article_id: ResourceId,
    session: DB,
    reader: Reader,
    locale: LocaleQuery = None,
) -> Response:
    """In `locale` (or a locale of its language); without it, in the source locale. 404
    when the article is not published for you in that language."""
    found = await public.article(session, audience_of(reader), article_id, locale=locale)
    return cached(request, found, signed_in=reader is not None)


@router.post("/articles/{article_id}/votes", openapi_extra=OPTIONAL_TOKEN)
async def vote_on_article(
    request: Request,
    article_id: ResourceId,
    data: VoteCreate,
    session: DB,
    reader: Reader,
    now: Now,
    visitor_id: VisitorId = None,
) -> VoteRead:
    """Was it helpful? One vote per visitor and article: a signed-in user's is their
    user's; an anonymous visitor is their client address with `X-Visitor-Id`. Voting again
    replaces the vote (the same value again counts nothing). New votes per client address
    are limited per hour (429 with `Retry-After`)."""
    visitor = visitor_of(request, reader, visitor_id)
    return await votes.vote(
        session,
        audience_of(reader),
        visitor,
        article_id=article_id,
        helpful=data.helpful,
        per_hour=request.app.state.settings.kb_votes_per_address_per_hour,
        now=now,
    )


@router.post("/suggest", openapi_extra=OPTIONAL_TOKEN)
async def suggest_articles(
    data: SuggestRequest,
    session: DB,
    reader: Reader,
    limit: Annotated[int, Query(ge=1, le=20, description="At most 20.")] = 5,
) -> SuggestionList:
    """Articles that may answer a request before it is sent (a form's subject and body), in
    its locale, best first. Nothing is stored."""
    return await suggestions.for_text(
        session,
        audience_of(reader),
        locale=data.locale,
        text=f"{data.subject}\n{data.body or ''}",
        limit=limit,
    )

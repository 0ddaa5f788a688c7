"""Finding translations: who may read which, full-text search in the locale's configuration,
trigram typo tolerance for short queries, and highlighted snippets.

Every read of articles outside the staff API starts from ``readable`` with an ``Audience``:
visibility and status are filtered in SQL, so nothing unpublished or internal is selected.
"""

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, Select, Text, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.kb.locales import search_configuration
from helpdesk_api.models import (
    ArticleVisibility,
    KbArticle,
    KbSection,
    KbTranslation,
    TranslationStatus,
)

# A query of at most this many characters and words is also matched by trigrams against
# titles when full-text search finds nothing (a typo defeats stemming: "pasword").
FUZZY_MAX_CHARS = 40
FUZZY_MAX_WORDS = 3
_WORD = re.compile(r"\w", re.UNICODE)
# Markers ts_headline puts around matches; the snippet is escaped, then they become <mark>.
_START, _STOP = "\x02", "\x03"
_HEADLINE = f"StartSel={_START}, StopSel={_STOP}, MaxWords=35, MinWords=15, MaxFragments=2"
# Added to the rank of an article sharing a label with the ticket's tags: about what a
# word of the title matching is worth, so a tag lifts a text match and finds an article on
# its own, but a shared tag does not bury an article that answers the words.
LABEL_BONUS = 0.1
# Suggestions read at most this much of a ticket or a form: the words that matter come first.
SUGGEST_MAX_CHARS = 2_000


class Matched(StrEnum):
    full_text = "full_text"
    fuzzy = "fuzzy"


@dataclass(frozen=True)
class Audience:
    visibilities: tuple[ArticleVisibility, ...]
    statuses: tuple[TranslationStatus, ...] = (TranslationStatus.published,)


ANONYMOUS = Audience((ArticleVisibility.public,))
SIGNED_IN = Audience((ArticleVisibility.public, ArticleVisibility.signed_in))
STAFF = Audience(tuple(ArticleVisibility))


@dataclass(frozen=True)
class Filters:
    locale: str | None = None
    section_id: int | None = None
    category_id: int | None = None
    label: str | None = None


def has_words(q: str) -> bool:
    return _WORD.search(q) is not None


def readable(audience: Audience, filters: Filters) -> Select[Any]:
    """(KbTranslation, KbArticle) rows the audience may read, filtered."""
    pair: Any = select(KbTranslation, KbArticle)
    statement: Select[Any] = pair.join(KbArticle, KbArticle.id == KbTranslation.article_id).where(
        KbArticle.visibility.in_([v.value for v in audience.visibilities]),
        KbTranslation.status.in_([s.value for s in audience.statuses]),
    )
    if filters.locale is not None:
        statement = statement.where(KbTranslation.locale == filters.locale)
    if filters.section_id is not None:
        statement = statement.where(KbArticle.section_id == filters.section_id)
    if filters.category_id is not None:
        statement = statement.where(
            KbArticle.section_id.in_(
                select(KbSection.id).where(KbSection.category_id == filters.category_id)
            )
        )
    if filters.label is not None:
        statement = statement.where(KbArticle.labels.contains([filters.label]))
    return statement


def _config(locale: str) -> ColumnElement[Any]:
    return cast(literal(search_configuration(locale)), REGCONFIG)


def web_query(locale: str, q: str) -> ColumnElement[Any]:
    """Words as a visitor types them: all must match; "quoted phrases", -excluded, or."""
    return func.websearch_to_tsquery(_config(locale), q)


def any_word_query(locale: str, text: str) -> ColumnElement[Any]:
    """Any of the words of a longer text (a ticket, a form): ranking sorts out the best."""
    plain = cast(func.plainto_tsquery(_config(locale), text[:SUGGEST_MAX_CHARS]), Text)
    return cast(func.replace(plain, " & ", " | "), TSQUERY)


@dataclass
class Hit:
    translation: KbTranslation
    article: KbArticle
    snippet: str | None
    matched: Matched | None
    rank: float | None = None


def _keys(rank: ColumnElement[Any] | None) -> list[SortKey]:
    if rank is not None:
        return [
            SortKey(rank, lambda row: row.rank, descending=True),
            SortKey(KbTranslation.id, lambda row: row.KbTranslation.id),
        ]
    return [
        SortKey(KbArticle.promoted, lambda row: row.KbArticle.promoted, descending=True),
        SortKey(KbArticle.position, lambda row: row.KbArticle.position),
        SortKey(KbTranslation.id, lambda row: row.KbTranslation.id),
    ]


async def search(
    session: AsyncSession,
    audience: Audience,
    filters: Filters,
    *,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Hit], str | None]:
    """Without ``q``: promoted first, then by position. With it (``filters.locale`` set):
    by relevance, title over body; a short query that matches nothing is matched by
    trigram similarity of titles instead (one page, ``matched: fuzzy``). A query without a
    letter or digit (only punctuation) matches nothing."""
    statement = readable(audience, filters)
    if q is None:
        rows, next_cursor = await paginate(
            session, statement, keys=_keys(None), limit=limit, cursor=cursor,
            ordering="position", scalars=False,
        )  # fmt: skip
        return [Hit(r.KbTranslation, r.KbArticle, None, None) for r in rows], next_cursor
    assert filters.locale is not None
    if not has_words(q):
        return [], None
    query = web_query(filters.locale, q)
    rank = func.ts_rank(KbTranslation.search_vector, query).label("rank")
    rows, next_cursor = await paginate(
        session,
        statement.add_columns(rank).where(KbTranslation.search_vector.op("@@")(query)),
        keys=_keys(rank),
        limit=limit,
        cursor=cursor,
        ordering="rank",
        scalars=False,
    )
    matched = Matched.full_text
    if not rows and cursor is None and _is_short(q):
        similarity = func.word_similarity(q, KbTranslation.title)
        rows = list(
            (
                await session.execute(
                    statement.where(literal(q).op("<%")(KbTranslation.title))
                    .order_by(similarity.desc(), KbTranslation.id)
                    .limit(limit)
                )
            ).all()
        )
        matched, next_cursor = Matched.fuzzy, None
    snippets = await _snippets(session, filters.locale, query, [r.KbTranslation.id for r in rows])
    hits = [
        Hit(r.KbTranslation, r.KbArticle, snippets.get(r.KbTranslation.id), matched) for r in rows
    ]
    return hits, next_cursor


def _is_short(q: str) -> bool:
    return len(q) <= FUZZY_MAX_CHARS and len(q.split()) <= FUZZY_MAX_WORDS


async def _snippets(
    session: AsyncSession, locale: str, query: ColumnElement[Any], ids: Sequence[int]
) -> dict[int, str]:
    """Highlighted fragments of the bodies of one page's rows only: ts_headline reads the
    whole text, so it never runs over every match."""
    if not ids:
        return {}
    headline = func.ts_headline(_config(locale), KbTranslation.body_text, query, _HEADLINE)
    rows = await session.execute(
        select(KbTranslation.id, headline).where(KbTranslation.id.in_(ids))
    )
    return {row[0]: mark(row[1]) for row in rows}


def mark(fragment: str) -> str:
    """HTML: the text escaped, matches in ``<mark>``."""
    return html.escape(fragment).replace(_START, "<mark>").replace(_STOP, "</mark>")


def _locale_and_language(locale: str) -> list[str]:
    """``it-IT`` reads articles in ``it-IT`` and in ``it``."""
    return list(dict.fromkeys([locale, locale.split("-", 1)[0]]))


async def suggest(
    session: AsyncSession,
    audience: Audience,
    *,
    locale: str,
    text: str,
    labels: Sequence[str] = (),
    limit: int,
    min_rank: float | None = None,
) -> list[Hit]:
    """The best readable articles in ``locale`` for a text, any of its words counting;
    articles sharing a label with ``labels`` (a ticket's tags) rank higher. With
    ``min_rank``, only those ranked at least that (the bot's threshold)."""
    if not has_words(text) and not labels:
        return []
    query = any_word_query(locale, text)
    matches: ColumnElement[bool] = KbTranslation.search_vector.op("@@")(query)
    rank: ColumnElement[Any] = func.ts_rank(KbTranslation.search_vector, query)
    if labels:
        shares_label = KbArticle.labels.overlap(list(labels))
        rank = rank + case((shares_label, literal(LABEL_BONUS, Float)), else_=literal(0.0, Float))
        matches = or_(matches, shares_label)
    statement = (
        readable(audience, Filters())
        .add_columns(rank.label("rank"))
        .where(KbTranslation.locale.in_(_locale_and_language(locale)), matches)
        .order_by(rank.desc(), KbArticle.promoted.desc(), KbTranslation.id)
        .limit(limit)
    )
    if min_rank is not None:
        statement = statement.where(rank >= min_rank)
    rows = (await session.execute(statement)).all()
    snippets = await _snippets(session, locale, query, [r.KbTranslation.id for r in rows])
    return [
        Hit(
            r.KbTranslation,
            r.KbArticle,
            snippets.get(r.KbTranslation.id),
            Matched.full_text,
            float(r.rank),
        )
        for r in rows
    ]

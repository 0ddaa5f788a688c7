"""Visitors' votes on articles: one per visitor and article, counted on the article.

A vote cast again with the same value changes nothing; with the other value it moves one
count to the other. New votes per client address are limited per hour (429). Votes record
no event: they are counted on the article, and the event log would fill with every
visitor's click.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.errors import NotFound, TooManyRequests
from helpdesk_api.kb import search
from helpdesk_api.kb.public_schemas import VoteRead
from helpdesk_api.kb.search import Audience, Filters
from helpdesk_api.kb.visitors import Visitor
from helpdesk_api.models import KbArticle, KbTranslation, KbVote

_WINDOW = timedelta(hours=1)


async def _check_budget(
    session: AsyncSession, visitor: Visitor, *, per_hour: int, now: datetime
) -> None:
    since = now - _WINDOW
    recent = (
        select(KbVote.created_at)
        .where(KbVote.address == visitor.address, KbVote.created_at > since)
        .order_by(KbVote.created_at)
        .limit(per_hour)
    ).subquery()
    count, oldest = (
        await session.execute(select(func.count(), func.min(recent.c.created_at)))
    ).one()
    if count >= per_hour:
        retry_after = max(1, int((oldest + _WINDOW - now).total_seconds()) + 1)
        raise TooManyRequests(
            f"At most {per_hour} votes an hour from one address; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


async def vote(
    session: AsyncSession,
    audience: Audience,
    visitor: Visitor,
    *,
    article_id: int,
    helpful: bool,
    per_hour: int,
    now: datetime,
) -> VoteRead:
    readable = search.readable(audience, Filters()).where(KbTranslation.article_id == article_id)
    if (await session.execute(readable.limit(1))).first() is None:
        raise NotFound(f"Article {article_id} does not exist.")
    # The article's row lock serialises its votes, so counts and votes stay in step.
    await session.execute(select(KbArticle.id).where(KbArticle.id == article_id).with_for_update())
    existing = await session.scalar(
        select(KbVote).where(KbVote.article_id == article_id, KbVote.visitor == visitor.key)
    )
    changed = existing is None or existing.helpful != helpful
    helpful_delta = unhelpful_delta = 0
    if existing is None:
        await _check_budget(session, visitor, per_hour=per_hour, now=now)
        session.add(
            KbVote(
                article_id=article_id,
                visitor=visitor.key,
                address=visitor.address,
                user_id=visitor.user_id,
                helpful=helpful,
                created_at=now,
                updated_at=now,
            )
        )
    elif changed:
        existing.helpful = helpful
        existing.updated_at = now
        helpful_delta, unhelpful_delta = (0, -1) if helpful else (-1, 0)
    helpful_delta += 1 if helpful else 0
    unhelpful_delta += 0 if helpful else 1
    await session.flush()
    # Counts are not content: the article's version, ETag and updated_at stay as they were.
    if not changed:
        counts = (
            await session.execute(
                select(KbArticle.helpful_count, KbArticle.unhelpful_count).where(
                    KbArticle.id == article_id
                )
            )
        ).one()
        return VoteRead(
            article_id=article_id,
            helpful=helpful,
            changed=False,
            helpful_count=counts.helpful_count,
            unhelpful_count=counts.unhelpful_count,
        )
    counts = (
        await session.execute(
            update(KbArticle)
            .where(KbArticle.id == article_id)
            .values(
                helpful_count=KbArticle.helpful_count + helpful_delta,
                unhelpful_count=KbArticle.unhelpful_count + unhelpful_delta,
                updated_at=KbArticle.updated_at,
            )
            .returning(KbArticle.helpful_count, KbArticle.unhelpful_count)
            .execution_options(synchronize_session=False)
        )
    ).one()
    return VoteRead(
        article_id=article_id,
        helpful=helpful,
        changed=True,
        helpful_count=counts.helpful_count,
        unhelpful_count=counts.unhelpful_count,
    )

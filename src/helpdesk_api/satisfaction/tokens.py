"""Rating links: a random token per solved cycle, kept only as its digest.

The token is a 256-bit secret (like API tokens), so its SHA-256 is a safe, indexable store:
a copy of the database does not hold working links. Only the solved notice ever sees the
token itself; a new notice for the same cycle replaces it (the older link stops working).
"""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import hash_token
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import Role, SatisfactionRating, StatusCategory, Ticket, User

TOKEN_PREFIX = "cs_"


def new_token() -> tuple[str, bytes]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def in_rated_cycle(ticket: Ticket) -> bool:
    """A solved ticket can be rated; reopening ends the cycle, closing ends rating."""
    return ticket.status_category == StatusCategory.solved and ticket.solved_at is not None


async def offer_rating(
    session: AsyncSession, settings: Settings, ticket: Ticket, *, now: datetime
) -> str | None:
    """A rating token for the solved notice to the requester, or None when ratings are off,
    no rating page is configured, the ticket is not solved or its requester is staff."""
    if not settings.satisfaction_enabled or settings.satisfaction_url is None:
        return None
    if not in_rated_cycle(ticket):
        return None
    role = await session.scalar(select(User.role).where(User.id == ticket.requester_id))
    if role != Role.customer:
        return None
    token, digest = new_token()
    expires_at = now + timedelta(days=settings.satisfaction_token_days)
    statement = insert(SatisfactionRating).values(
        ticket_id=ticket.id,
        solved_at=ticket.solved_at,
        assignee_id=ticket.assignee_id,
        group_id=ticket.group_id,
        token_hash=digest,
        expires_at=expires_at,
        offered_at=now,
    )
    await session.execute(
        statement.on_conflict_do_update(
            constraint="uq_satisfaction_ratings_ticket_cycle",
            set_={"token_hash": digest, "expires_at": expires_at},
        )
    )
    return token


def rating_links(settings: Settings, token: str) -> tuple[str, str, str]:
    """The rating page, and the page proposing good and bad (the same without ``{score}``)."""
    assert settings.satisfaction_url is not None
    page = settings.satisfaction_url.replace("{token}", token)
    return (
        page.replace("{score}", ""),
        page.replace("{score}", "good"),
        page.replace("{score}", "bad"),
    )

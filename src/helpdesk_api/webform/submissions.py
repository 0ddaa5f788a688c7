"""The per-address budget of the web form, and the record of what each request became.

Kept in PostgreSQL, like the login throttle, so every API process and a restart share it.
A transaction-scoped advisory lock per address serialises one address's requests, so a burst
cannot all pass the same count. Every request counts, a caught one as much as an accepted
one; a refused one (422, 429) rolls back and counts nothing.
"""

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.errors import TooManyRequests
from helpdesk_api.models import WebFormSubmission

WINDOW = timedelta(hours=1)
_PRUNE_BATCH = 100


def address_digest(rate_limit_key: bytes) -> bytes:
    return hashlib.sha256(b"web-form-address\x00" + rate_limit_key).digest()


async def check_budget(
    session: AsyncSession, address: bytes, *, per_hour: int, now: datetime
) -> None:
    lock_id = int.from_bytes(address[:8], "big", signed=True)
    await session.execute(select(func.pg_advisory_xact_lock(lock_id)))
    recent = (
        select(WebFormSubmission.created_at)
        .where(WebFormSubmission.address == address, WebFormSubmission.created_at > now - WINDOW)
        .order_by(WebFormSubmission.created_at)
        .limit(per_hour)
    ).subquery()
    count, oldest = (
        await session.execute(select(func.count(), func.min(recent.c.created_at)))
    ).one()
    if count >= per_hour:
        retry_after = max(1, int((oldest + WINDOW - now).total_seconds()) + 1)
        raise TooManyRequests(
            f"At most {per_hour} requests an hour from one address; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


async def start(
    session: AsyncSession, address: bytes, *, token_digest: bytes | None, now: datetime
) -> int | None:
    """The submission's row; None when its form token was already spent (a concurrent
    request spending it waits here for the other's transaction to end)."""
    return await session.scalar(
        insert(WebFormSubmission)
        .values(address=address, form_token_digest=token_digest, outcome="dropped", created_at=now)
        .on_conflict_do_nothing(index_elements=["form_token_digest"])
        .returning(WebFormSubmission.id)
    )


async def finish(
    session: AsyncSession, submission_id: int, *, outcome: str, ticket_id: int | None = None
) -> None:
    await session.execute(
        update(WebFormSubmission)
        .where(WebFormSubmission.id == submission_id)
        .values(outcome=outcome, ticket_id=ticket_id)
    )


async def prune(session: AsyncSession, *, keep: timedelta, now: datetime) -> None:
    """Forget a batch of rows nothing needs any more (past the window and a token's
    lifetime): each request clears a little, so the table stays about an hour's traffic."""
    expired = (
        select(WebFormSubmission.id)
        .where(WebFormSubmission.created_at < now - max(keep, WINDOW))
        .order_by(WebFormSubmission.created_at)
        .limit(_PRUNE_BATCH)
    )
    await session.execute(delete(WebFormSubmission).where(WebFormSubmission.id.in_(expired)))

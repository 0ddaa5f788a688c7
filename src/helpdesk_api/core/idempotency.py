"""Idempotency-Key for creating POSTs.

The stored response is written in the same transaction as the thing it created, so a retry
sees either both or neither. A transaction-scoped advisory lock on (caller, key) makes a
concurrent duplicate fail fast with 409 instead of waiting or creating twice.
"""

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request, Response
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.core.auth import Authenticated
from helpdesk_api.core.db import DB
from helpdesk_api.core.errors import Conflict, InvalidInput
from helpdesk_api.core.settings import get_settings
from helpdesk_api.models import IdempotencyKey

# Replayed with the body; everything else is recomputed by the transport.
_REPLAYED_HEADERS = ("content-type", "location", "etag")


class IdempotentReplay(Exception):
    def __init__(self, stored: IdempotencyKey) -> None:
        self.stored = stored


def _lock_id(user_id: int, key: str) -> int:
    digest = hashlib.sha256(f"idempotency:{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def _request_fingerprint(request: Request) -> bytes:
    body = await request.body()
    target = f"{request.method} {request.url.path}?{request.url.query}\n".encode()
    return hashlib.sha256(target + body).digest()


async def idempotency_key(
    request: Request,
    session: DB,
    principal: Authenticated,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Retry-safe key: the same key and body replay the first response "
            "for 24 hours; another body with the same key is refused with 422.",
        ),
    ] = None,
) -> None:
    if key is None:
        return
    fingerprint = await _request_fingerprint(request)
    locked = await session.scalar(
        select(func.pg_try_advisory_xact_lock(_lock_id(principal.user_id, key)))
    )
    if not locked:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry in a moment."
        )
    ttl = timedelta(hours=get_settings().idempotency_ttl_hours)
    stored = await session.get(IdempotencyKey, (principal.user_id, key))
    if stored is not None and stored.created_at > datetime.now(UTC) - ttl:
        if stored.request_hash != fingerprint:
            raise InvalidInput(
                "This Idempotency-Key was already used with a different request; "
                "use a new key for a new request.",
                loc=("header", "Idempotency-Key"),
                type="idempotency_key_reused",
            )
        raise IdempotentReplay(stored)

    async def store(response: Response) -> None:
        if not 200 <= response.status_code < 300:
            return
        headers = {h: response.headers[h] for h in _REPLAYED_HEADERS if h in response.headers}
        values = {
            "user_id": principal.user_id,
            "key": key,
            "request_hash": fingerprint,
            "method": request.method,
            "path": request.url.path,
            "response_status": response.status_code,
            "response_headers": headers,
            "response_body": bytes(response.body),
            "created_at": func.now(),
        }
        statement = insert(IdempotencyKey).values(values)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "key"],
                set_={k: statement.excluded[k] for k in values if k not in ("user_id", "key")},
            )
        )

    hooks: list[Callable[[Response], Awaitable[None]]] = getattr(request.state, "before_commit", [])
    hooks.append(store)
    request.state.before_commit = hooks


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    stored = exc.stored
    headers = dict(stored.response_headers)
    media_type = headers.pop("content-type", None)
    headers["Idempotent-Replayed"] = "true"
    return Response(
        content=stored.response_body,
        status_code=stored.response_status,
        headers=headers,
        media_type=media_type,
    )


def install_idempotency(app: FastAPI) -> None:
    app.add_exception_handler(IdempotentReplay, _replay)


Idempotent = Depends(idempotency_key)


async def purge_expired_keys(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime
) -> float | None:
    """Worker job: forget stored responses past their lifetime, in small batches."""
    cutoff = now - timedelta(hours=get_settings().idempotency_ttl_hours)
    async with sessionmaker() as session, session.begin():
        doomed = (
            select(IdempotencyKey.user_id, IdempotencyKey.key)
            .where(IdempotencyKey.created_at < cutoff)
            .limit(1000)
            .with_for_update(skip_locked=True)
        )
        result = await session.execute(
            delete(IdempotencyKey).where(
                tuple_(IdempotencyKey.user_id, IdempotencyKey.key).in_(doomed)
            )
        )
    return 0.0 if result.rowcount == 1000 else 3600.0  # type: ignore[attr-defined]

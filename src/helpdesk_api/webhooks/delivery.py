"""Worker job: deliver due webhook messages, at least once, signed, with retries.

A delivery is claimed with a lease (``claimed_until``) in a short transaction, sent outside
any transaction, and its outcome written in another. A worker killed mid-delivery simply
lets its lease expire; another worker then sends the same message (same ``webhook-id``).
A worker stopped by SIGTERM lets deliveries in flight finish for a while, then abandons the
rest and releases their leases at once, so another worker need not wait for them to expire.
"""

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.metrics import record_delivery
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import Webhook, WebhookAttempt, WebhookDelivery
from helpdesk_api.webhooks.signing import signature_header
from helpdesk_api.webhooks.ssrf import UnsafeDestination, resolve_destination

logger = logging.getLogger("helpdesk_api.webhooks")
RESPONSE_KEEP_BYTES = 4096
MAX_RETRY_AFTER = 24 * 3600.0

_CLAIM = text(
    """
    UPDATE webhook_deliveries d
       SET status = 'delivering', attempts = d.attempts + 1,
           claimed_until = now() + make_interval(secs => :lease)
      FROM webhooks w
     WHERE w.id = d.webhook_id
       AND d.id IN (
           SELECT d2.id FROM webhook_deliveries d2
             JOIN webhooks w2 ON w2.id = d2.webhook_id AND w2.is_active
            WHERE d2.status IN ('pending', 'delivering')
              AND d2.next_attempt_at <= now()
              AND (d2.claimed_until IS NULL OR d2.claimed_until < now())
            ORDER BY d2.next_attempt_at
            LIMIT :limit
              FOR UPDATE OF d2 SKIP LOCKED)
    RETURNING d.id, d.msg_id, d.payload, d.attempts, d.created_at, w.id AS webhook_id, w.url,
              w.secret, w.previous_secret, w.previous_secret_expires_at
    """
)


@dataclass(frozen=True)
class Claimed:
    id: int
    msg_id: str
    payload: bytes
    attempts: int
    created_at: datetime
    webhook_id: int
    url: str
    secrets: list[str]


# Hands back a claim that was abandoned: due again now, its unfinished attempt not counted.
# Only while this worker's claim stands (same attempt, still delivering), so a result that
# was recorded just before, or a later claim by another worker, is left alone.
_RELEASE = text(
    """
    UPDATE webhook_deliveries
       SET status = 'pending', attempts = attempts - 1, claimed_until = NULL,
           next_attempt_at = now()
     WHERE id = :id AND attempts = :attempts AND status = 'delivering'
    """
)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int
    body: str | None
    retry_after: float | None


def _retry_after(response: httpx.Response) -> float | None:
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("retry-after", "")
    try:
        return min(max(float(value), 1.0), MAX_RETRY_AFTER)
    except ValueError:
        return None


def pinned_url(url: str, address: str) -> tuple[str, str]:
    """The URL with its host replaced by the checked address, and the Host header to send."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=netloc)), host_header


class DeliveryJob:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schedule = settings.retry_schedule()
        self.in_flight: dict[asyncio.Task[None], Claimed] = {}
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.client = httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False
        )

    async def __call__(
        self, sessionmaker: async_sessionmaker[AsyncSession], now: datetime
    ) -> float | None:
        self.sessionmaker = sessionmaker
        capacity = self.settings.worker_concurrency - len(self.in_flight)
        if capacity > 0:
            for item in await self._claim(sessionmaker, capacity):
                task = asyncio.create_task(self._deliver(sessionmaker, item))
                self.in_flight[task] = item
                task.add_done_callback(self._forget)
        return await self._seconds_until_due(sessionmaker)

    async def _claim(
        self, sessionmaker: async_sessionmaker[AsyncSession], limit: int
    ) -> list[Claimed]:
        lease = self.settings.webhook_timeout_seconds + 30
        async with sessionmaker() as session, session.begin():
            rows = (await session.execute(_CLAIM, {"lease": lease, "limit": limit})).all()
        now = datetime.now(UTC)
        return [
            Claimed(
                id=r.id,
                msg_id=r.msg_id,
                payload=bytes(r.payload),
                attempts=r.attempts,
                created_at=r.created_at,
                webhook_id=r.webhook_id,
                url=r.url,
                secrets=[r.secret]
                + (
                    [r.previous_secret]
                    if r.previous_secret and (r.previous_secret_expires_at or now) > now
                    else []
                ),
            )
            for r in rows
        ]

    async def _seconds_until_due(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> float | None:
        async with sessionmaker() as session:
            due = await session.scalar(
                select(func.min(WebhookDelivery.next_attempt_at))
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(
                    WebhookDelivery.status.in_(("pending", "delivering")),
                    Webhook.is_active,
                )
            )
        if due is None:
            return None
        return max((due - datetime.now(UTC)).total_seconds(), 0.05)

    async def _send(self, item: Claimed) -> Outcome:
        started = time.perf_counter()
        body = item.payload.decode()
        try:
            addresses = await resolve_destination(
                item.url, allow_private=self.settings.webhook_allow_private
            )
            url, host = pinned_url(item.url, addresses[0])
            timestamp = datetime.now(UTC)
            headers = {
                "content-type": "application/json",
                "user-agent": "helpdesk-api-webhooks/1",
                "host": host,
                "webhook-id": item.msg_id,
                "webhook-timestamp": str(int(timestamp.timestamp())),
                "webhook-signature": signature_header(item.secrets, item.msg_id, timestamp, body),
            }
            extensions: dict[str, Any] = {}
            if url.startswith("https://"):
                extensions["sni_hostname"] = urlsplit(item.url).hostname
            response = await self.client.post(
                url, content=item.payload, headers=headers, extensions=extensions
            )
        except UnsafeDestination as exc:
            return Outcome(None, f"refused: {exc}", _ms(started), None, None)
        except httpx.TimeoutException:
            return Outcome(None, "timeout", _ms(started), None, None)
        except httpx.HTTPError as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], _ms(started), None, None)
        return Outcome(
            response.status_code,
            None,
            _ms(started),
            response.content[:RESPONSE_KEEP_BYTES].decode(errors="replace"),
            _retry_after(response),
        )

    async def _deliver(self, sessionmaker: async_sessionmaker[AsyncSession], item: Claimed) -> None:
        try:
            outcome = await self._send(item)
            await self._record(sessionmaker, item, outcome)
        except Exception:  # the lease expires and another attempt follows; never kill the loop
            logger.exception("delivery failed to record", extra={"delivery_id": item.id})

    def _next_delay(self, item: Claimed, outcome: Outcome) -> float | None:
        if item.attempts > len(self.schedule):
            return None
        delay = self.schedule[item.attempts - 1] * random.uniform(0.9, 1.1)  # noqa: S311
        return max(delay, outcome.retry_after or 0.0)

    async def _record(
        self, sessionmaker: async_sessionmaker[AsyncSession], item: Claimed, outcome: Outcome
    ) -> None:
        now = datetime.now(UTC)
        succeeded = outcome.status_code is not None and 200 <= outcome.status_code < 300
        gone = outcome.status_code == 410
        values: dict[str, Any] = {
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "claimed_until": None,
        }
        delay = None if succeeded or gone else self._next_delay(item, outcome)
        if succeeded:
            values |= {"status": "succeeded", "finished_at": now}
        elif delay is None:
            values |= {"status": "failed" if gone else "gave_up", "finished_at": now}
        else:
            values |= {"status": "pending", "next_attempt_at": now + timedelta(seconds=delay)}
        async with sessionmaker() as session, session.begin():
            session.add(
                WebhookAttempt(
                    delivery_id=item.id,
                    attempted_at=now,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                    response_body=outcome.body,
                )
            )
            # Only while this worker's claim stands: a slower twin must not undo a retry, and
            # a manual redelivery asked for while this attempt was in flight (status back to
            # pending) must not be overwritten by this attempt's result.
            await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == item.id,
                    WebhookDelivery.attempts == item.attempts,
                    WebhookDelivery.status == "delivering",
                )
                .values(**values)
            )
            if gone:
                await _disable(session, item.webhook_id, "The endpoint answered 410 Gone.")
            elif values["status"] == "gave_up" and not await _succeeded_since(session, item):
                await _disable(
                    session,
                    item.webhook_id,
                    "Every delivery failed for the whole retry window.",
                )
        record_delivery(values["status"], outcome.duration_ms)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self.in_flight.pop(task, None)

    async def close(self) -> None:
        """Let deliveries in flight finish within the shutdown timeout; release the rest."""
        if self.in_flight:
            await asyncio.wait(set(self.in_flight), timeout=self.settings.shutdown_timeout_seconds)
        abandoned = dict(self.in_flight)
        for task in abandoned:
            task.cancel()
        if abandoned:
            await asyncio.wait(set(abandoned))
            await self._release(list(abandoned.values()))
        await self.client.aclose()

    async def _release(self, items: list[Claimed]) -> None:
        if self.sessionmaker is None:
            return
        try:
            async with self.sessionmaker() as session, session.begin():
                for item in items:
                    await session.execute(_RELEASE, {"id": item.id, "attempts": item.attempts})
        except Exception:  # the leases then expire on their own, as after a crash
            logger.exception("could not release delivery leases")
            return
        logger.info("released delivery leases", extra={"delivery_ids": [i.id for i in items]})


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


async def _succeeded_since(session: AsyncSession, item: Claimed) -> bool:
    return bool(
        await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(
                WebhookDelivery.webhook_id == item.webhook_id,
                WebhookDelivery.status == "succeeded",
                WebhookDelivery.finished_at >= item.created_at,
            )
        )
    )


async def _disable(session: AsyncSession, webhook_id: int, reason: str) -> None:
    result = await session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.is_active)
        .values(is_active=False, disabled_reason=reason, updated_at=func.now())
        .returning(Webhook.id)
    )
    if result.scalar() is not None:
        await record_event(
            session,
            EventType.webhook_disabled,
            actor_id=None,
            via="worker",
            data={"webhook_id": webhook_id, "reason": reason},
        )

"""Worker job: send channels' replies, at least once, with retries, as webhooks are sent.

A conversation's replies go out one at a time, in the order they were written: a reply
waits while an earlier one of its ticket is unfinished (retrying), so a customer never reads
them out of order. A reply is claimed with a lease in a short transaction, sent outside any
transaction, and its outcome written in another; a worker killed mid-send lets the lease
expire and another sends the same bytes under the same ``webhook-id``. Webhook targets are
signed with the webhooks' own signing (Standard Webhooks) and checked against the same SSRF
rules; the retry schedule is the webhooks' (``webhook_retry_schedule``). Telegram targets go
to the Bot API's ``sendMessage``; its ``retry_after`` is honoured, and a refusal that cannot
change (a chat that does not exist, a bot blocked by the user) fails at once.
"""

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import ChannelDelivery, DeliveryTarget, MessagingChannel
from helpdesk_api.webhooks.delivery import MAX_RETRY_AFTER, pinned_url
from helpdesk_api.webhooks.signing import signature_header
from helpdesk_api.webhooks.ssrf import UnsafeDestination, resolve_destination

logger = logging.getLogger("helpdesk_api.channels")
ERROR_KEEP_CHARS = 1000

_CLAIM = text(
    """
    UPDATE channel_deliveries d
       SET status = 'delivering', attempts = d.attempts + 1,
           claimed_until = now() + make_interval(secs => :lease)
      FROM messaging_channels c
     WHERE c.id = d.channel_id
       AND d.id IN (
           SELECT d2.id FROM channel_deliveries d2
             JOIN messaging_channels c2 ON c2.id = d2.channel_id AND c2.is_active
            WHERE d2.status IN ('pending', 'delivering')
              AND d2.next_attempt_at <= now()
              AND (d2.claimed_until IS NULL OR d2.claimed_until < now())
              AND NOT EXISTS (
                  SELECT 1 FROM channel_deliveries e
                   WHERE e.ticket_id = d2.ticket_id AND e.id < d2.id
                     AND e.status IN ('pending', 'delivering'))
            ORDER BY d2.next_attempt_at, d2.id
            LIMIT :limit
              FOR UPDATE OF d2 SKIP LOCKED)
    RETURNING d.id, d.ticket_id, d.comment_id, d.target, d.msg_id, d.payload, d.attempts,
              c.webhook_url, c.webhook_secret, c.telegram_bot_token, c.telegram_api_base_url
    """
)


@dataclass(frozen=True)
class Claimed:
    id: int
    ticket_id: int
    comment_id: int
    target: str
    msg_id: str
    payload: bytes
    attempts: int
    webhook_url: str | None
    webhook_secret: str | None
    bot_token: str | None
    api_base_url: str | None


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    permanent: bool = False
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


class ChannelDeliveryJob:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schedule = settings.retry_schedule()
        self.client = httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False
        )

    async def __call__(
        self, sessionmaker: async_sessionmaker[AsyncSession], now: datetime
    ) -> float | None:
        claimed = await self._claim(sessionmaker)
        # At most one reply per conversation is claimed: conversations go side by side.
        await asyncio.gather(*(self._deliver(sessionmaker, item) for item in claimed))
        if len(claimed) == self.settings.worker_concurrency:
            return 0.0
        return await self._seconds_until_due(sessionmaker)

    async def _claim(self, sessionmaker: async_sessionmaker[AsyncSession]) -> list[Claimed]:
        lease = self.settings.webhook_timeout_seconds + 30
        limit = self.settings.worker_concurrency
        async with sessionmaker() as session, session.begin():
            rows = (await session.execute(_CLAIM, {"lease": lease, "limit": limit})).all()
        return [
            Claimed(
                id=r.id,
                ticket_id=r.ticket_id,
                comment_id=r.comment_id,
                target=r.target,
                msg_id=r.msg_id,
                payload=bytes(r.payload),
                attempts=r.attempts,
                webhook_url=r.webhook_url,
                webhook_secret=r.webhook_secret,
                bot_token=r.telegram_bot_token,
                api_base_url=r.telegram_api_base_url,
            )
            for r in sorted(rows, key=lambda r: r.id)
        ]

    async def _seconds_until_due(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> float | None:
        async with sessionmaker() as session:
            due = await session.scalar(
                select(func.min(ChannelDelivery.next_attempt_at))
                .join(MessagingChannel, MessagingChannel.id == ChannelDelivery.channel_id)
                .where(
                    ChannelDelivery.status.in_(("pending", "delivering")),
                    MessagingChannel.is_active,
                )
            )
        if due is None:
            return None
        return max((due - datetime.now(UTC)).total_seconds(), 0.05)

    async def _deliver(self, sessionmaker: async_sessionmaker[AsyncSession], item: Claimed) -> None:
        try:
            outcome = await self._send(item)
            await self._record(sessionmaker, item, outcome)
        except Exception:  # the lease expires and another attempt follows
            logger.exception("channel delivery failed to record", extra={"id": item.id})

    async def _send(self, item: Claimed) -> Outcome:
        try:
            if item.target == DeliveryTarget.telegram:
                return await self._send_telegram(item)
            return await self._send_webhook(item)
        except UnsafeDestination as exc:
            return Outcome(None, f"refused: {exc}")
        except httpx.TimeoutException:
            return Outcome(None, "timeout")
        except httpx.HTTPError as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:ERROR_KEEP_CHARS])

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        addresses = await resolve_destination(
            url, allow_private=self.settings.webhook_allow_private
        )
        pinned, host = pinned_url(url, addresses[0])
        extensions: dict[str, Any] = {}
        if pinned.startswith("https://"):
            extensions["sni_hostname"] = urlsplit(url).hostname
        return await self.client.post(
            pinned,
            content=body,
            headers={"content-type": "application/json", "host": host, **headers},
            extensions=extensions,
        )

    async def _send_webhook(self, item: Claimed) -> Outcome:
        if not item.webhook_url or not item.webhook_secret:
            return Outcome(None, "the channel has no webhook_url", permanent=True)
        timestamp = datetime.now(UTC)
        signature = signature_header(
            [item.webhook_secret], item.msg_id, timestamp, item.payload.decode()
        )
        response = await self._post(
            item.webhook_url,
            item.payload,
            {
                "user-agent": "helpdesk-api-channels/1",
                "webhook-id": item.msg_id,
                "webhook-timestamp": str(int(timestamp.timestamp())),
                "webhook-signature": signature,
            },
        )
        code = response.status_code
        error = None if 200 <= code < 300 else f"HTTP {code}"
        retry_after = _header_retry_after(response) if code in (429, 503) else None
        return Outcome(code, error, permanent=code == 410, retry_after=retry_after)

    async def _send_telegram(self, item: Claimed) -> Outcome:
        if not item.bot_token or not item.api_base_url:
            return Outcome(None, "the channel has no bot token", permanent=True)
        url = f"{item.api_base_url}/bot{item.bot_token}/sendMessage"
        response = await self._post(url, item.payload, {"user-agent": "helpdesk-api-channels/1"})
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code == 200 and answer.get("ok") is True:
            return Outcome(200, None)
        code = response.status_code
        description = str(answer.get("description") or f"HTTP {code}")[:ERROR_KEEP_CHARS]
        parameters = answer.get("parameters")
        retry_after = None
        if isinstance(parameters, dict) and isinstance(parameters.get("retry_after"), int | float):
            retry_after = min(max(float(parameters["retry_after"]), 1.0), MAX_RETRY_AFTER)
        # 400 (chat not found, bad text), 401 (token revoked), 403 (blocked by the user),
        # 404: sending the same again cannot succeed.
        permanent = code in (400, 401, 403, 404)
        return Outcome(code, description, permanent=permanent, retry_after=retry_after)

    def _next_delay(self, item: Claimed, outcome: Outcome) -> float | None:
        if outcome.permanent or item.attempts > len(self.schedule):
            return None
        delay = self.schedule[item.attempts - 1] * random.uniform(0.9, 1.1)  # noqa: S311
        return max(delay, outcome.retry_after or 0.0)

    async def _record(
        self, sessionmaker: async_sessionmaker[AsyncSession], item: Claimed, outcome: Outcome
    ) -> None:
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "claimed_until": None,
        }
        delay = None if outcome.succeeded else self._next_delay(item, outcome)
        if outcome.succeeded:
            values |= {"status": "succeeded", "finished_at": now}
        elif delay is None:
            values |= {"status": "failed" if outcome.permanent else "gave_up", "finished_at": now}
        else:
            values |= {"status": "pending", "next_attempt_at": now + timedelta(seconds=delay)}
        async with sessionmaker() as session, session.begin():
            # Only while this worker's claim stands: a slower twin must not undo a retry.
            result = await session.execute(
                update(ChannelDelivery)
                .where(
                    ChannelDelivery.id == item.id,
                    ChannelDelivery.attempts == item.attempts,
                    ChannelDelivery.status == "delivering",
                )
                .values(**values)
                .returning(ChannelDelivery.channel_id)
            )
            channel_id = result.scalar()
            if channel_id is not None and values["status"] in ("failed", "gave_up"):
                await record_event(
                    session,
                    EventType.channel_delivery_failed,
                    actor_id=None,
                    via="worker",
                    ticket_id=item.ticket_id,
                    data={
                        "channel_id": channel_id,
                        "ticket_id": item.ticket_id,
                        "comment_id": item.comment_id,
                        "target": item.target,
                        "status": values["status"],
                        "attempts": item.attempts,
                        "error": outcome.error,
                    },
                )

    async def close(self) -> None:
        await self.client.aclose()


def _header_retry_after(response: httpx.Response) -> float | None:
    try:
        return min(max(float(response.headers.get("retry-after", "")), 1.0), MAX_RETRY_AFTER)
    except ValueError:
        return None

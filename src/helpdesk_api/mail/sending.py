"""Worker job: send the outbox through the SMTP relay, at least once, with retries.

A message is claimed with a lease (``claimed_until``) in a short transaction, handed to the
relay outside any transaction, and its outcome written in another. It is marked sent only
after the relay accepted it; a worker killed in between lets the lease expire and another
worker sends the same bytes again, under the same Message-ID, by which a repeat is known.
A worker stopped by SIGTERM lets sends in flight finish for a while, then releases the rest.

Temporary failures (4xx, timeouts, a relay that is down, refused credentials) are retried on
``mail_retry_schedule``; a 5xx refusal of the sender, the recipients or the message fails
the message at once. Without ``smtp_host`` nothing is sent: mail waits in the outbox.
"""

import asyncio
import logging
import random
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.core.metrics import record_mail_send
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import OutboundEmail, OutboundStatus

logger = logging.getLogger("helpdesk_api.mail")
# Connections to the relay at once, per worker: relays limit them per client.
MAX_CONNECTIONS = 4
ERROR_KEEP_CHARS = 2000
_DUE = (OutboundStatus.pending, OutboundStatus.sending)


@dataclass(frozen=True)
class Claimed:
    id: int
    message_id: str
    mail_from: str
    recipients: list[str]
    raw: bytes
    attempts: int


@dataclass(frozen=True)
class Outcome:
    sent: bool
    permanent: bool  # a 5xx: retrying cannot help
    error: str | None
    duration_ms: int


def _reply(code: int, message: str) -> str:
    return f"{code} {' '.join(message.split())}"


def _classify(exc: Exception) -> tuple[bool, str]:
    """(permanent, error text) of a failed attempt."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = exc.recipients
        text = "; ".join(f"{r.recipient}: {_reply(r.code, r.message)}" for r in refused)
        return bool(refused) and all(r.code >= 500 for r in refused), f"recipients refused: {text}"
    # The relay refusing us (at connect, EHLO or AUTH) is about the relay or its settings,
    # not about this message: retried, so the mail goes out once that is put right.
    relay_wide = (
        aiosmtplib.SMTPConnectError,
        aiosmtplib.SMTPHeloError,
        aiosmtplib.SMTPAuthenticationError,
    )
    if isinstance(exc, aiosmtplib.SMTPResponseException) and not isinstance(exc, relay_wide):
        return exc.code >= 500, _reply(exc.code, exc.message)
    if isinstance(exc, TimeoutError):
        return False, "timeout"
    return False, f"{type(exc).__name__}: {exc}"


class OutboxJob:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schedule = settings.mail_retry_delays()
        # aiosmtplib's timeout bounds each step; this bounds the whole conversation.
        self.deadline = settings.smtp_timeout_seconds * 3
        self.lease = self.deadline + 30
        self.concurrency = max(1, min(settings.worker_concurrency, MAX_CONNECTIONS))
        self.in_flight: dict[asyncio.Task[None], Claimed] = {}
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.closing = False
        # aiosmtplib looks the name up (socket.getfqdn) for every connection otherwise.
        self.local_hostname: str | None = None

    async def __call__(
        self, sessionmaker: async_sessionmaker[AsyncSession], now: datetime
    ) -> float | None:
        if self.settings.smtp_host is None:
            return None
        self.sessionmaker = sessionmaker
        if self.local_hostname is None:
            self.local_hostname = await asyncio.to_thread(socket.getfqdn)
        capacity = self.concurrency - len(self.in_flight)
        if capacity > 0:
            for item in await self._claim(sessionmaker, capacity):
                task = asyncio.create_task(self._deliver(sessionmaker, item))
                self.in_flight[task] = item
                task.add_done_callback(self._forget)
        return await self._seconds_until_due(sessionmaker)

    async def _claim(
        self, sessionmaker: async_sessionmaker[AsyncSession], limit: int
    ) -> list[Claimed]:
        lease_ends = func.now() + timedelta(seconds=self.lease)
        due = (
            select(OutboundEmail.id)
            .where(
                OutboundEmail.status.in_(_DUE),
                OutboundEmail.next_attempt_at <= func.now(),
                (OutboundEmail.claimed_until.is_(None))
                | (OutboundEmail.claimed_until < func.now()),
            )
            .order_by(OutboundEmail.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        # A claimed message is due again when its lease ends, so the due index skips the
        # messages in flight and the worker wakes when an abandoned lease expires.
        claim = (
            update(OutboundEmail)
            .where(OutboundEmail.id.in_(due.scalar_subquery()))
            .values(
                status=OutboundStatus.sending,
                attempts=OutboundEmail.attempts + 1,
                claimed_until=lease_ends,
                next_attempt_at=lease_ends,
            )
            .returning(
                OutboundEmail.id,
                OutboundEmail.message_id,
                OutboundEmail.mail_from,
                OutboundEmail.recipients,
                OutboundEmail.raw,
                OutboundEmail.attempts,
            )
            .execution_options(synchronize_session=False)
        )
        async with sessionmaker() as session, session.begin():
            rows = (await session.execute(claim)).all()
        return [
            Claimed(
                id=r.id,
                message_id=r.message_id,
                mail_from=r.mail_from,
                recipients=list(r.recipients),
                raw=bytes(r.raw),
                attempts=r.attempts,
            )
            for r in rows
        ]

    async def _seconds_until_due(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> float | None:
        async with sessionmaker() as session:
            due = await session.scalar(
                select(func.min(OutboundEmail.next_attempt_at)).where(
                    OutboundEmail.status.in_(_DUE)
                )
            )
        if due is None:
            return None
        return max((due - datetime.now(UTC)).total_seconds(), 0.05)

    async def _send(self, item: Claimed) -> Outcome:
        settings = self.settings
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.deadline):
                refused, _ = await aiosmtplib.send(
                    item.raw,
                    sender=item.mail_from,
                    recipients=item.recipients,
                    hostname=settings.smtp_host,
                    port=settings.smtp_port,
                    use_tls=settings.smtp_security == "ssl",
                    start_tls=settings.smtp_security == "starttls",
                    username=settings.smtp_username,
                    password=settings.smtp_password,
                    timeout=settings.smtp_timeout_seconds,
                    local_hostname=self.local_hostname,
                )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            permanent, error = _classify(exc)
            return Outcome(False, permanent, error[:ERROR_KEEP_CHARS], _ms(started))
        # Accepted for some recipients and refused for others: sent, saying who missed it.
        missed = "; ".join(f"{rcpt}: {_reply(r.code, r.message)}" for rcpt, r in refused.items())
        note = f"recipients refused: {missed}"[:ERROR_KEEP_CHARS] if refused else None
        return Outcome(True, False, note, _ms(started))

    async def _deliver(self, sessionmaker: async_sessionmaker[AsyncSession], item: Claimed) -> None:
        """Send, record, and while there is due mail take the next message at once: a slot
        that waited for the worker's next pass would cap a worker near 4 messages a pass."""
        task = asyncio.current_task()
        current: Claimed | None = item
        while current is not None:
            try:
                outcome = await self._send(current)
                await self._record(sessionmaker, current, outcome)
            except Exception:  # the lease expires and another attempt follows
                logger.exception(
                    "outbound mail failed to record", extra={"outbound_email_id": current.id}
                )
            if self.closing:
                return
            try:
                claimed = await self._claim(sessionmaker, 1)
            except Exception:  # the worker's next pass claims again
                logger.exception("could not claim outbound mail")
                return
            current = claimed[0] if claimed else None
            if current is not None and task is not None:
                self.in_flight[task] = current

    def _next_delay(self, item: Claimed) -> float | None:
        if item.attempts > len(self.schedule):
            return None
        return self.schedule[item.attempts - 1] * random.uniform(0.9, 1.1)  # noqa: S311

    async def _record(
        self, sessionmaker: async_sessionmaker[AsyncSession], item: Claimed, outcome: Outcome
    ) -> None:
        now = datetime.now(UTC)
        values: dict[str, Any] = {"claimed_until": None}
        # The error of the latest failed attempt stays after a later success: why it was late.
        if outcome.error is not None:
            values["last_error"] = outcome.error
        delay = None if outcome.sent or outcome.permanent else self._next_delay(item)
        if outcome.sent:
            values |= {"status": OutboundStatus.sent, "sent_at": now}
        elif delay is None:
            values |= {"status": OutboundStatus.failed}
        else:
            values |= {
                "status": OutboundStatus.pending,
                "next_attempt_at": now + timedelta(seconds=delay),
            }
        async with sessionmaker() as session, session.begin():
            # Only while this worker's claim stands: a worker whose lease expired mid-send
            # must not overwrite the outcome of the claim that followed it.
            await session.execute(
                update(OutboundEmail)
                .where(
                    OutboundEmail.id == item.id,
                    OutboundEmail.attempts == item.attempts,
                    OutboundEmail.status == OutboundStatus.sending,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        record_mail_send(str(values["status"]), outcome.duration_ms)
        log = logger.info if outcome.sent else logger.warning
        log(
            "outbound mail %s",
            values["status"],
            extra={
                "outbound_email_id": item.id,
                "message_id": item.message_id,
                "attempt": item.attempts,
                "error": outcome.error,
            },
        )

    def _forget(self, task: asyncio.Task[None]) -> None:
        self.in_flight.pop(task, None)

    async def close(self) -> None:
        """Let sends in flight finish within the shutdown timeout; release the rest."""
        self.closing = True
        if self.in_flight:
            await asyncio.wait(set(self.in_flight), timeout=self.settings.shutdown_timeout_seconds)
        abandoned = dict(self.in_flight)
        for task in abandoned:
            task.cancel()
        if abandoned:
            await asyncio.wait(set(abandoned))
            await self._release(list(abandoned.values()))

    async def _release(self, items: list[Claimed]) -> None:
        """Abandoned claims are due again now, their unfinished attempt not counted; only
        while this worker's claim stands."""
        if self.sessionmaker is None:
            return
        try:
            async with self.sessionmaker() as session, session.begin():
                for item in items:
                    await session.execute(
                        update(OutboundEmail)
                        .where(
                            OutboundEmail.id == item.id,
                            OutboundEmail.attempts == item.attempts,
                            OutboundEmail.status == OutboundStatus.sending,
                        )
                        .values(
                            status=OutboundStatus.pending,
                            attempts=OutboundEmail.attempts - 1,
                            claimed_until=None,
                            next_attempt_at=func.now(),
                        )
                        .execution_options(synchronize_session=False)
                    )
        except Exception:  # the leases then expire on their own, as after a crash
            logger.exception("could not release outbound mail leases")
            return
        logger.info(
            "released outbound mail leases", extra={"outbound_email_ids": [i.id for i in items]}
        )


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)

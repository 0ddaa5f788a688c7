"""Worker job: import the mail of the mailboxes that have an IMAP server.

Each mailbox is polled about every ``mail_imap_poll_seconds`` by whichever worker claims it
first: the claim moves ``imap_checked_at`` to now in a short transaction of its own, so two
workers do not poll one mailbox at once.

Where the server offers IDLE, a worker that polled a mailbox well also keeps a connection of
its own to it waiting in IDLE (in a thread, at most ``mail_imap_idle_max_connections`` per
worker), and polls the mailbox at once when the server reports new mail, claiming it by its
id whenever it was last polled. Polling stays the fallback: for servers without IDLE, while
an IDLE connection is being opened again after a failure, and for what IDLE missed. A failed
poll, a mailbox no longer active or with other IMAP settings ends its IDLE connection.

A poll reads the messages above ``imap_last_uid`` (all of them again when the folder's
UIDVALIDITY changed) in batches: each message is stored through ``intake.receive``, the batch
is committed, and only then moved to the archive folder (or flagged ``\\Seen``) and
``imap_last_uid`` advanced. A crash anywhere in between leaves the batch to be read again,
and ``receive`` recognises what it already stored, so nothing is lost or imported twice.

The polling runs in a task of its own, one mailbox at a time, so a slow IMAP server never
holds up the worker's other jobs. A failing mailbox records ``imap_error`` (cleared by the
next good poll) and the others go on.

Progress is written with plain UPDATEs that leave the mailbox's ``version`` alone: it is
state, not configuration, and must not fail an administrator's conditional update.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.core.errors import is_database_outage
from helpdesk_api.core.settings import Settings
from helpdesk_api.mail.imap_client import ImapAccount, ImapConnection, ImapIdler
from helpdesk_api.mail.intake import receive
from helpdesk_api.models import EmailChannel, InboundSource

logger = logging.getLogger("helpdesk_api.mail.imap")
BATCH = 20
# A mailbox with a backlog is emptied over several polls, so the others get their turn.
MAX_MESSAGES_PER_POLL = 500
# After the database failed, polling is tried again this soon (or at the interval).
RETRY_SECONDS = 5.0
_ERROR_KEEP_CHARS = 2000
# IDLE is ended and issued again this often (RFC 2177: within 29 minutes); a failed IDLE
# connection is opened again after RETRY_SECONDS, doubling up to IDLE_MAX_RETRY_SECONDS.
IDLE_RENEW_SECONDS = 300.0
IDLE_MAX_RETRY_SECONDS = 300.0

_CLAIM_SQL = """
    UPDATE email_channels SET imap_checked_at = now()
     WHERE id = (
           SELECT id FROM email_channels
            WHERE is_active AND imap_host IS NOT NULL
              AND {condition}
            ORDER BY imap_checked_at NULLS FIRST, id
            LIMIT 1
              FOR UPDATE SKIP LOCKED)
    RETURNING id, imap_host, imap_port, imap_security, imap_username, imap_password,
              imap_folder, imap_archive_folder, imap_uid_validity, imap_last_uid
    """
_CLAIM = text(
    _CLAIM_SQL.format(
        condition="""(imap_checked_at IS NULL
                   OR imap_checked_at <= now() - make_interval(secs => :interval))"""
    )
)
# A mailbox whose IDLE connection reported new mail, however recently it was polled.
_CLAIM_ONE = text(_CLAIM_SQL.format(condition="id = :id"))

_IDLE_ACCOUNTS = text(
    """
    SELECT id, imap_host, imap_port, imap_security, imap_username, imap_password, imap_folder
      FROM email_channels
     WHERE id = ANY(:ids) AND is_active AND imap_host IS NOT NULL
    """
)

_SECONDS_UNTIL_DUE = text(
    """
    SELECT EXTRACT(EPOCH FROM min(COALESCE(
               imap_checked_at + make_interval(secs => :interval), now())) - now())
      FROM email_channels
     WHERE is_active AND imap_host IS NOT NULL
    """
)


@dataclass(frozen=True)
class Claimed:
    channel_id: int
    account: ImapAccount
    archive_folder: str | None
    uid_validity: int | None
    last_uid: int


class MissingCredentials(Exception):
    pass


def _account(row: Any) -> ImapAccount:
    return ImapAccount(
        host=row.imap_host,
        port=row.imap_port,
        security=row.imap_security,
        username=row.imap_username or "",
        password=row.imap_password or "",
        folder=row.imap_folder,
    )


class ImapPollJob:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.interval = settings.mail_imap_poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._due_at = float("-inf")  # on the event loop's clock
        self._stopping = False
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        # The mailboxes' IDLE connections, and those that reported new mail.
        self._idlers: dict[int, ImapIdler] = {}
        self._woken: set[int] = set()

    async def __call__(
        self, sessionmaker: async_sessionmaker[AsyncSession], now: datetime
    ) -> float | None:
        self._sessionmaker = sessionmaker
        if self._task is not None and not self._task.done():
            return None  # still polling; the worker calls again at its own interval
        wait = self._due_at - asyncio.get_running_loop().time()
        if wait > 0 and not self._woken:
            return wait
        self._task = asyncio.create_task(self._poll_due(sessionmaker))
        return None

    async def close(self) -> None:
        """End the IDLE connections, finish the batch in flight (within the shutdown
        timeout), then stop."""
        self._stopping = True
        idlers = list(self._idlers.values())
        self._idlers.clear()
        for idler in idlers:
            idler.stop()
        timeout = self.settings.shutdown_timeout_seconds
        deadline = time.monotonic() + timeout
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=timeout)
            if not task.done():  # what it had not committed is read again by the next poll
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if idlers:
            # Woken by their sockets' shutdown, they end at once (one still connecting, when
            # its connection opens or fails).
            await asyncio.to_thread(self._join, idlers, max(deadline - time.monotonic(), 1.0))

    @staticmethod
    def _join(idlers: Sequence[ImapIdler], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for idler in idlers:
            if not idler.join(max(deadline - time.monotonic(), 0.0)):
                # A daemon thread, still opening its connection: it ends with the process.
                logger.warning("imap idle connection did not end in time")

    def _wake(self, channel_id: int) -> None:
        """On the event loop: an IDLE connection reported new mail; poll that mailbox now."""
        if self._stopping or channel_id not in self._idlers:
            return
        self._woken.add(channel_id)
        if self._sessionmaker is not None and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._poll_due(self._sessionmaker))

    def _idle(self, claimed: Claimed, capabilities: frozenset[str]) -> None:
        """After a good poll: keep (or start) the mailbox's IDLE connection if it may have one."""
        current = self._idlers.get(claimed.channel_id)
        if current is not None:
            if current.account == claimed.account:
                return
            self._stop_idle(claimed.channel_id)
        if (
            self._stopping
            or "IDLE" not in capabilities
            or len(self._idlers) >= self.settings.mail_imap_idle_max_connections
        ):
            return
        loop, channel_id = asyncio.get_running_loop(), claimed.channel_id

        def on_new_mail() -> None:  # in the IDLE thread
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(self._wake, channel_id)

        idler = ImapIdler(
            claimed.account,
            on_new_mail,
            timeout=self.settings.mail_imap_timeout_seconds,
            renew_seconds=IDLE_RENEW_SECONDS,
            retry_seconds=RETRY_SECONDS,
            max_retry_seconds=IDLE_MAX_RETRY_SECONDS,
            name=f"imap-idle-{channel_id}",
        )
        self._idlers[channel_id] = idler
        idler.start()

    def _stop_idle(self, channel_id: int) -> None:
        idler = self._idlers.pop(channel_id, None)
        if idler is not None:
            idler.stop()  # its thread ends on its own; nothing waits for it

    async def _prune_idle(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """End the IDLE connections of mailboxes no longer active or with other settings."""
        if not self._idlers:
            return
        async with sessionmaker() as session:
            rows = (await session.execute(_IDLE_ACCOUNTS, {"ids": list(self._idlers)})).all()
        accounts = {row.id: _account(row) for row in rows}
        for channel_id, idler in list(self._idlers.items()):
            if accounts.get(channel_id) != idler.account:
                self._stop_idle(channel_id)

    async def _poll_due(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not self._stopping:
                while not self._stopping:
                    if self._woken:
                        claimed = await self._claim_one(sessionmaker, self._woken.pop())
                        if claimed is None:
                            continue
                    else:
                        claimed = await self._claim(sessionmaker)
                        if claimed is None:
                            break
                    await self._poll(sessionmaker, claimed)
                await self._prune_idle(sessionmaker)
                self._due_at = loop.time() + await self._seconds_until_due(sessionmaker)
                if not self._woken:  # else mail reported meanwhile: poll again
                    break
        except Exception as exc:
            if is_database_outage(exc):
                logger.warning("imap polling waits for the database", extra={"error": repr(exc)})
            else:
                logger.exception("imap polling failed")
            self._due_at = loop.time() + min(self.interval, RETRY_SECONDS)

    async def _claim(self, sessionmaker: async_sessionmaker[AsyncSession]) -> Claimed | None:
        async with sessionmaker() as session, session.begin():
            row = (await session.execute(_CLAIM, {"interval": self.interval})).first()
        return self._claimed(row)

    async def _claim_one(
        self, sessionmaker: async_sessionmaker[AsyncSession], channel_id: int
    ) -> Claimed | None:
        async with sessionmaker() as session, session.begin():
            row = (await session.execute(_CLAIM_ONE, {"id": channel_id})).first()
        return self._claimed(row)

    @staticmethod
    def _claimed(row: Any) -> Claimed | None:
        if row is None:
            return None
        return Claimed(
            channel_id=row.id,
            account=_account(row),
            archive_folder=row.imap_archive_folder,
            uid_validity=row.imap_uid_validity,
            last_uid=row.imap_last_uid,
        )

    async def _seconds_until_due(self, sessionmaker: async_sessionmaker[AsyncSession]) -> float:
        async with sessionmaker() as session:
            seconds = await session.scalar(_SECONDS_UNTIL_DUE, {"interval": self.interval})
        if seconds is None:  # no mailbox polls IMAP: look again for new ones at the interval
            return self.interval
        # Something due that another worker holds: look again soon, not at once.
        return min(max(float(seconds), 1.0), self.interval)

    async def _poll(self, sessionmaker: async_sessionmaker[AsyncSession], claimed: Claimed) -> None:
        uid_validity, last_uid = claimed.uid_validity, claimed.last_uid
        connection: ImapConnection | None = None
        error: str | None = None
        imported = 0
        try:
            if not claimed.account.username or not claimed.account.password:
                raise MissingCredentials("the mailbox has no IMAP username or password")
            connection = await asyncio.to_thread(
                ImapConnection.open,
                claimed.account,
                timeout=self.settings.mail_imap_timeout_seconds,
            )
            if connection.uid_validity != uid_validity:
                # The folder's UIDs were renumbered (or this is the first poll): read it all
                # again; what was stored before is recognised by its Message-ID.
                uid_validity, last_uid = connection.uid_validity, 0
            uids = await asyncio.to_thread(connection.uids_after, last_uid)
            uids = uids[:MAX_MESSAGES_PER_POLL]
            if uids and claimed.archive_folder is not None:
                await asyncio.to_thread(connection.ensure_folder, claimed.archive_folder)
            for start in range(0, len(uids), BATCH):
                if self._stopping:
                    break
                batch = uids[start : start + BATCH]
                imported += await self._import(sessionmaker, connection, claimed, batch)
                last_uid = batch[-1]
                # Also renews the claim, so a long poll is not claimed again meanwhile.
                await self._record(
                    sessionmaker,
                    claimed.channel_id,
                    imap_uid_validity=uid_validity,
                    imap_last_uid=last_uid,
                    imap_checked_at=func.now(),
                )
        except Exception as exc:
            if is_database_outage(exc):
                raise
            error = f"{type(exc).__name__}: {exc}"[:_ERROR_KEEP_CHARS]
            logger.warning(
                "imap poll failed", extra={"channel_id": claimed.channel_id, "error": error}
            )
        finally:
            if connection is not None:
                await asyncio.to_thread(connection.close)
        if error is None and connection is not None:
            self._idle(claimed, connection.capabilities)
        else:
            self._stop_idle(claimed.channel_id)
        await self._record(
            sessionmaker,
            claimed.channel_id,
            imap_uid_validity=uid_validity,
            imap_last_uid=last_uid,
            imap_checked_at=func.now(),
            imap_error=error,
        )
        if imported:
            logger.info(
                "imap mail imported", extra={"channel_id": claimed.channel_id, "count": imported}
            )

    async def _import(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        connection: ImapConnection,
        claimed: Claimed,
        batch: Sequence[int],
    ) -> int:
        """Store one batch, commit, then archive it on the server; the number stored."""
        sizes = await asyncio.to_thread(connection.sizes, batch)
        limit = self.settings.smtp_max_message_bytes
        too_big = [uid for uid in batch if sizes.get(uid, 0) > limit]
        if too_big:
            logger.warning(
                "imap messages over the size limit left in the mailbox",
                extra={"channel_id": claimed.channel_id, "uids": too_big, "limit": limit},
            )
        wanted = [uid for uid in batch if uid in sizes and uid not in too_big]
        messages = await asyncio.to_thread(connection.fetch, wanted) if wanted else {}
        if messages:
            async with sessionmaker() as session:
                channel = await session.get_one(EmailChannel, claimed.channel_id)
                for uid in wanted:
                    if uid in messages:
                        await receive(
                            session,
                            raw=messages[uid],
                            source=InboundSource.imap,
                            channel=channel,
                            settings=self.settings,
                            now=datetime.now(UTC),
                        )
                await session.commit()
        # Only now, with the batch committed, does the server learn that it was read.
        await asyncio.to_thread(connection.archive, list(messages), claimed.archive_folder)
        return len(messages)

    @staticmethod
    async def _record(
        sessionmaker: async_sessionmaker[AsyncSession], channel_id: int, **values: Any
    ) -> None:
        async with sessionmaker() as session:
            await session.execute(
                update(EmailChannel).where(EmailChannel.id == channel_id).values(**values)
            )
            await session.commit()

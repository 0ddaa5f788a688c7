"""One LISTEN connection per process, fanned out to every waiting stream."""

import asyncio
import contextlib
from typing import Any

import asyncpg

from helpdesk_api.core.errors import DatabaseUnavailable

CHANNEL = "helpdesk_events"


class EventNotifier:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._connection: Any = None
        self._waiters: set[asyncio.Event] = set()
        self._lock = asyncio.Lock()

    async def ensure_listening(self) -> None:
        """Listen again if the connection was lost (a database restart closes it)."""
        async with self._lock:
            if self._connection is not None and not self._connection.is_closed():
                return
            try:
                self._connection = await asyncpg.connect(self._dsn, timeout=5)
            except (OSError, TimeoutError) as exc:
                raise DatabaseUnavailable() from exc
            await self._connection.add_listener(CHANNEL, self.wake_all)
            # Losing the connection loses notifications: wake everyone to read and re-listen.
            self._connection.add_termination_listener(self.wake_all)

    def wake_all(self, *_: object) -> None:
        """Wake every waiting stream: on a notification, or to make them look at shutdown."""
        for waiter in self._waiters:
            waiter.set()

    async def subscribe(self) -> asyncio.Event:
        """Register before reading, so a notification between read and wait is not lost."""
        await self.ensure_listening()
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        return waiter

    def unsubscribe(self, waiter: asyncio.Event) -> None:
        self._waiters.discard(waiter)

    @staticmethod
    async def wait(waiter: asyncio.Event, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), seconds)
        woken = waiter.is_set()
        waiter.clear()
        return woken

    async def close(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            await self._connection.close()
        self._connection = None

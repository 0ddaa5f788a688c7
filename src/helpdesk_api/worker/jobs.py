"""What the worker runs. Each job does one batch of due work in its own transaction(s) and
says when it next wants to run; the worker also wakes every job on a NOTIFY of a new event.
The jobs themselves are listed in ``assembly.worker_jobs``, so the worker imports no domain.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from helpdesk_api.core.settings import Settings

# Returns the seconds until the job next has work (None: only when woken, or at the poll
# interval). A job commits its own work.
Job = Callable[[async_sessionmaker[AsyncSession], datetime], Awaitable[float | None]]


class Connect(Protocol):
    def __call__(
        self,
        url: str,
        *,
        settings: Settings | None = ...,
        pool_size: int = ...,
        max_overflow: int = ...,
    ) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]: ...

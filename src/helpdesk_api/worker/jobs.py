"""What the worker runs. Each job does one batch of due work in its own transaction(s) and
says when it next wants to run; the worker also wakes every job on a NOTIFY of a new event.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Returns the seconds until the job next has work (None: only when woken, or at the poll
# interval). A job commits its own work.
Job = Callable[[async_sessionmaker[AsyncSession], datetime], Awaitable[float | None]]

# Filled in by api.register_worker_jobs(), so the worker module imports no domain.
JOBS: dict[str, Job] = {}

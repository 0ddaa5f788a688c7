"""`helpdesk-api worker`: runs every registered job, wakes on NOTIFY, falls back to polling.

Any number of workers on any number of machines share the work through PostgreSQL: each
job claims rows with SKIP LOCKED or a lock of its own, so they never do the same work twice.
"""

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime

from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.core.errors import is_database_outage
from helpdesk_api.core.metrics import observe_job
from helpdesk_api.core.settings import Settings
from helpdesk_api.events.notifier import EventNotifier
from helpdesk_api.worker.jobs import Connect, Job

logger = logging.getLogger("helpdesk_api.worker")
# While the database is away no NOTIFY can wake the worker: try again this often.
RELISTEN_SECONDS = 1.0


async def run_worker(
    settings: Settings,
    connect: Connect,
    jobs: dict[str, Job],
    stop: asyncio.Event | None = None,
) -> None:
    """Run ``jobs`` until ``stop`` (or SIGTERM/SIGINT); sessions come from ``connect``, the
    assembly's, so jobs change tickets through the same pipeline as the API."""
    assert settings.database_url is not None
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    engine, sessionmaker = connect(
        settings.database_url, settings=settings, pool_size=4, max_overflow=4
    )
    notifier = EventNotifier(to_libpq_url(settings.database_url))
    waiter = await notifier.subscribe()
    logger.info("worker started", extra={"jobs": sorted(jobs)})
    try:
        while not stop.is_set():
            waits = [settings.worker_poll_seconds]
            try:
                await notifier.ensure_listening()
            except Exception as exc:
                # The database is away; the jobs log their own failures.
                logger.warning("cannot listen for events", extra={"error": repr(exc)})
                waits.append(RELISTEN_SECONDS)
            for name, job in list(jobs.items()):
                try:
                    with observe_job(name):
                        due_in = await job(sessionmaker, datetime.now(UTC))
                except Exception as exc:
                    if is_database_outage(exc):
                        logger.warning("job waits for the database", extra={"job": name})
                    else:
                        logger.exception("job failed", extra={"job": name})
                    continue
                if due_in is not None:
                    waits.append(due_in)
            pause = min(waits)
            if pause > 0:
                stopper = asyncio.create_task(stop.wait())
                woken = asyncio.create_task(notifier.wait(waiter, pause))
                await asyncio.wait({stopper, woken}, return_when=asyncio.FIRST_COMPLETED)
                stopper.cancel()
                woken.cancel()
    finally:
        for job in jobs.values():
            close = getattr(job, "close", None)
            if close is not None:
                await close()
        notifier.unsubscribe(waiter)
        await notifier.close()
        await engine.dispose()
        logger.info("worker stopped")

"""The database floor of the channels' bench: the service's own statements, recorded per
request as SQLAlchemy hands them to asyncpg, replayed on raw asyncpg.

The service runs in process on database A; every statement of a request (its text, its
parameters already in asyncpg's form, and whether it was an ``executemany``) is kept in that
request's trace. Database B is a copy of A taken before the first request, so replaying the
traces on B in the same order, one transaction per trace and one at a time, does exactly the
database work the service did: the same rows, locks, index entries and sequence values (a
sequence hands out the same ids in the same order), without the framework, the ORM and the
service's Python around it. BEGIN and COMMIT are asyncpg's own on both sides.

Replaying in order is what keeps ids in step, so the floor runs one request at a time, and
its figure is compared with the service's at one client.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class Trace:
    label: str
    timed: bool
    statements: list[tuple[str, Any, bool]] = field(default_factory=list)


@dataclass
class Recorder:
    traces: list[Trace] = field(default_factory=list)
    current: Trace | None = None

    def install(self, engine: AsyncEngine) -> None:
        def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                   executemany: bool) -> None:  # fmt: skip
            if self.current is not None:
                self.current.statements.append((statement, parameters, executemany))

        event.listen(engine.sync_engine, "before_cursor_execute", record)

    @contextmanager
    def request(self, label: str, *, timed: bool) -> Iterator[Trace]:
        trace = Trace(label, timed)
        self.current = trace
        try:
            yield trace
        finally:
            self.current = None
            self.traces.append(trace)


async def _run(connection: asyncpg.Connection, statements: list[tuple[str, Any, bool]]) -> None:
    async with connection.transaction():
        for statement, parameters, many in statements:
            if many:
                await connection.executemany(statement, parameters)
            else:
                await connection.fetch(statement, *(parameters or ()))


async def replay(engine: AsyncEngine, traces: list[Trace]) -> dict[str, list[float]]:
    """Seconds per timed trace, by label, replayed in order on one connection of ``engine``
    (its asyncpg connection, with the JSON codecs SQLAlchemy set up for the parameters)."""
    seconds: dict[str, list[float]] = {}
    async with engine.connect() as sa_connection:
        raw = await sa_connection.get_raw_connection()
        connection: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
        for trace in traces:
            started = time.perf_counter()
            await _run(connection, trace.statements)
            if trace.timed:
                seconds.setdefault(trace.label, []).append(time.perf_counter() - started)
    return seconds

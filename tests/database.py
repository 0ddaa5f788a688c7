"""The test PostgreSQL: embedded by default, TEST_DATABASE_URL to use another server.

Migrations run once into a template database; every test gets a database of its own that
holds exactly the template's rows, so tests exercise real commits and never see each other's
rows. A used database is reset (TRUNCATE, then the template's rows copied back) and reused:
that takes milliseconds where cloning the template takes hundreds. Tests that change the
schema are marked ``alters_schema`` and get a database that is dropped afterwards.
"""

import asyncio
import os
import queue
import sys
import tempfile
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from helpdesk_api.core import migrations
from helpdesk_api.core.auth import hash_token
from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.core.embedded import EmbeddedPostgres
from helpdesk_api.models import Base

TEMPLATE = "helpdesk_test_template"
PREPARED_DATABASES = 2
FILLER_ATTEMPTS = 10
_RESTORE_SEQUENCES = (
    "SELECT setval(name::regclass, value, is_called) FROM unnest($1::text[], $2::bigint[], "
    "$3::bool[]) AS s(name, value, is_called)"
)
ADMIN_TOKEN = "hd_test-admin-token"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class TestServer:
    def __init__(self) -> None:
        self.embedded: EmbeddedPostgres | None = None
        self._ready: queue.Queue[str] = queue.Queue()
        self._doomed: queue.Queue[str] = queue.Queue()
        self._dirty: queue.Queue[str] = queue.Queue()
        self._tables: list[str] = []
        self._seed: dict[str, tuple[list[str], list[tuple[object, ...]]]] = {}
        self._sequences: list[tuple[str, int, bool]] = []
        self._any_rows = ""
        self._replica_role = True
        self._filler: threading.Thread | None = None
        self._stopping = threading.Event()
        self._failure: BaseException | None = None
        configured = os.environ.get("TEST_DATABASE_URL")
        if configured:
            self.server_url = to_libpq_url(configured)
        else:
            data_dir = Path(tempfile.mkdtemp(prefix="helpdesk-test-"))
            self.embedded = EmbeddedPostgres(data_dir, database="postgres")
            self.server_url = self.embedded.start()
            # A throwaway cluster: durability buys nothing here and costs seconds per run.
            self.embedded.psql(
                "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off;"
                "ALTER SYSTEM SET full_page_writes = off; SELECT pg_reload_conf();"
            )

    async def admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(with_database(self.server_url, "postgres"))

    async def create_template(self) -> None:
        connection = await self.admin()
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{TEMPLATE}"')
        finally:
            await connection.close()
        url = with_database(self.server_url, TEMPLATE)
        await asyncio.to_thread(migrations.upgrade, url)
        seed = await asyncpg.connect(url)
        try:
            admin_id = await seed.fetchval(
                "INSERT INTO users (name, role) VALUES ('Test Admin', 'admin') RETURNING id"
            )
            await seed.execute(
                "INSERT INTO user_identities (user_id, kind, value, is_primary) "
                "VALUES ($1, 'email', 'admin@example.test', true)",
                admin_id,
            )
            await seed.execute(
                "INSERT INTO api_tokens (user_id, token_hash, name) VALUES ($1, $2, 'test')",
                admin_id,
                hash_token(ADMIN_TOKEN),
            )
        finally:
            await seed.close()

    async def create_database(self, *, template: str | None = TEMPLATE) -> str:
        name = f"helpdesk_test_{uuid.uuid4().hex[:12]}"
        connection = await self.admin()
        try:
            source = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
            await connection.execute(f'CREATE DATABASE "{name}"{source}')
        finally:
            await connection.close()
        return with_database(self.server_url, name)

    async def drop_database(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        connection = await self.admin()
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    async def take_database(self) -> str:
        """A database made ready ahead of time, while earlier tests ran."""
        if self._filler is None:
            self._filler = threading.Thread(target=self._run_filler, daemon=True)
            self._filler.start()
        while True:
            try:
                return await asyncio.to_thread(self._ready.get, timeout=1.0)
            except queue.Empty:
                if self._failure is not None:
                    raise RuntimeError("preparing test databases failed") from self._failure

    def release_database(self, url: str, *, reusable: bool = True) -> None:
        (self._dirty if reusable else self._doomed).put(url)

    def _run_filler(self) -> None:
        # Its own thread and event loop: a synchronous test blocks the tests' loop, and a
        # reset paused mid-transaction there would hold back the whole cluster's event
        # horizon (and every feed, stream and worker waiting on it).
        try:
            asyncio.run(self._fill())
        except Exception as exc:
            self._failure = exc

    async def _capture_seed(self) -> None:
        connection = await asyncpg.connect(with_database(self.server_url, TEMPLATE))
        try:
            tables = [
                r["table_name"]
                for r in await connection.fetch(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
                    "AND table_name <> 'alembic_version' ORDER BY table_name"
                )
            ]
            self._tables = tables
            for table in tables:
                columns = [
                    r["column_name"]
                    for r in await connection.fetch(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND table_name = $1 "
                        "AND is_generated = 'NEVER' ORDER BY ordinal_position",
                        table,
                    )
                ]
                rows = await connection.fetch(
                    f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} FROM "{table}"'  # noqa: S608
                )
                if rows:
                    self._seed[table] = (columns, [tuple(r) for r in rows])
            # Parents before children, so foreign keys hold while the rows go back in.
            order = {table.name: n for n, table in enumerate(Base.metadata.sorted_tables)}
            self._seed = dict(sorted(self._seed.items(), key=lambda item: order.get(item[0], 0)))
            # Only the sequences of serial and identity columns, as RESTART IDENTITY would:
            # a free-standing one (the trigger set's version) must never repeat a number, or
            # a process cache keyed by it would serve one test's triggers to the next.
            self._sequences = [
                (f'"{r["schemaname"]}"."{r["sequencename"]}"', r["value"], r["is_called"])
                for r in await connection.fetch(
                    "SELECT schemaname, sequencename, coalesce(last_value, start_value) AS value,"
                    " last_value IS NOT NULL AS is_called FROM pg_sequences s"
                    " WHERE EXISTS (SELECT FROM pg_depend d"
                    " WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
                    " AND d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass)"
                )
            ]
            self._any_rows = " UNION ALL ".join(
                f"SELECT '{t}' WHERE EXISTS (SELECT FROM \"{t}\")"  # noqa: S608
                for t in tables
            )
        finally:
            await connection.close()

    async def _reset(self, url: str) -> bool:
        """Empty a used database back to the template's rows; False if it could not be done
        at once (a straggling connection holds a lock), and the database is then dropped.

        The reset must be quick: while its transaction holds an id it holds back the event
        horizon of the whole cluster, which other tests' feeds and workers wait on. A test
        writes a handful of the ~80 tables, so only those (and the seeded ones) are emptied,
        by DELETE with the foreign keys' and search triggers off (the rows put back are the
        template's own, derived rows included): TRUNCATE of every table made a new file for
        each table and index, ~250 ms, and every test waited for it."""
        connection = await asyncpg.connect(url)
        try:
            async with connection.transaction():
                await connection.execute("SET LOCAL lock_timeout = '500ms'")
                if self._replica_role:
                    try:
                        await connection.execute("SET LOCAL session_replication_role = replica")
                    except asyncpg.exceptions.InsufficientPrivilegeError:
                        self._replica_role = False
                        raise
                    written = {r[0] for r in await connection.fetch(self._any_rows)}
                    for table in sorted(written | self._seed.keys()):
                        await connection.execute(f'DELETE FROM "{table}"')  # noqa: S608
                else:
                    names = ", ".join(f'"{t}"' for t in self._tables)
                    await connection.execute(f"TRUNCATE {names} CASCADE")
                for table, (columns, rows) in self._seed.items():
                    await connection.copy_records_to_table(table, records=rows, columns=columns)
                await connection.execute(
                    _RESTORE_SEQUENCES,
                    [name for name, _, _ in self._sequences],
                    [value for _, value, _ in self._sequences],
                    [called for _, _, called in self._sequences],
                )
        except asyncpg.exceptions.LockNotAvailableError:
            return False
        except asyncpg.exceptions.InsufficientPrivilegeError:
            # Not a superuser on TEST_DATABASE_URL's server: TRUNCATE everything from now on.
            return False
        finally:
            await connection.close()
        return True

    async def _fill(self) -> None:
        await self._capture_seed()
        failures = 0
        while not self._stopping.is_set():
            try:
                await self._fill_once()
                failures = 0
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                # One database that cannot be reset or dropped (a straggler's lock, a deadlock
                # with it, a slow machine's connect timeout) must not fail every later test;
                # only a server that keeps failing does.
                failures += 1
                print(f"test database filler: {exc!r} (failure {failures})", file=sys.stderr)
                if failures >= FILLER_ATTEMPTS:
                    raise
                await asyncio.sleep(0.5 * failures)

    async def _fill_once(self) -> None:
        while not self._doomed.empty():
            url = self._doomed.get_nowait()
            try:
                await self.drop_database(url)
            except BaseException:
                self._doomed.put(url)
                raise
        if not self._dirty.empty():
            url = self._dirty.get_nowait()
            try:
                reset = await self._reset(url)
            except BaseException:
                self._doomed.put(url)
                raise
            if reset:
                self._ready.put(url)
            else:
                self._doomed.put(url)
        elif self._ready.qsize() < PREPARED_DATABASES:
            self._ready.put(await self.create_database())
        else:
            await asyncio.sleep(0.005)

    async def close(self) -> None:
        self._stopping.set()
        if self._filler is not None:
            await asyncio.to_thread(self._filler.join, 30)

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()

"""The test PostgreSQL: embedded by default, TEST_DATABASE_URL to use another server.

Migrations run once into a template database; every test gets a database of its own that
holds exactly the template's rows, so tests exercise real commits and never see each other's
rows. A used database is reset (TRUNCATE, then the template's rows copied back) and reused:
that takes milliseconds where cloning the template takes hundreds. Tests that change the
schema are marked ``alters_schema`` and get a database that is dropped afterwards.
"""

import asyncio
import contextlib
import os
import tempfile
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
ADMIN_TOKEN = "hd_test-admin-token"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class TestServer:
    def __init__(self) -> None:
        self.embedded: EmbeddedPostgres | None = None
        self._ready: asyncio.Queue[str] | None = None
        self._doomed: asyncio.Queue[str] = asyncio.Queue()
        self._dirty: asyncio.Queue[str] = asyncio.Queue()
        self._tables: list[str] = []
        self._seed: dict[str, tuple[list[str], list[tuple[object, ...]]]] = {}
        self._filler: asyncio.Task[None] | None = None
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
        """A fresh copy of the template, made ahead of time while earlier tests ran."""
        if self._ready is None:
            self._ready = asyncio.Queue()
            self._filler = asyncio.create_task(self._fill())
        assert self._filler is not None
        getting = asyncio.ensure_future(self._ready.get())
        await asyncio.wait({getting, self._filler}, return_when=asyncio.FIRST_COMPLETED)
        if not getting.done():
            getting.cancel()
            self._filler.result()  # the filler failed: raise its error instead of hanging
        return getting.result()

    def release_database(self, url: str, *, reusable: bool = True) -> None:
        (self._dirty if reusable else self._doomed).put_nowait(url)

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
        finally:
            await connection.close()

    async def _reset(self, url: str) -> None:
        connection = await asyncpg.connect(url)
        try:
            async with connection.transaction():
                names = ", ".join(f'"{t}"' for t in self._tables)
                await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
                for table, (columns, rows) in self._seed.items():
                    await connection.copy_records_to_table(table, records=rows, columns=columns)
                    await connection.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                        f'(SELECT max(id) FROM "{table}"))'
                        if "id" in columns
                        else "SELECT 1"
                    )
        finally:
            await connection.close()

    async def _fill(self) -> None:
        # Cloning a database costs a few hundred milliseconds; PostgreSQL does it in its own
        # process while the current test runs, so tests rarely wait for one.
        assert self._ready is not None
        await self._capture_seed()
        while True:
            while not self._doomed.empty():
                await self.drop_database(self._doomed.get_nowait())
            if not self._dirty.empty():
                url = self._dirty.get_nowait()
                await self._reset(url)
                await self._ready.put(url)
            elif self._ready.qsize() < PREPARED_DATABASES:
                await self._ready.put(await self.create_database())
            else:
                await asyncio.sleep(0.005)

    async def close(self) -> None:
        if self._filler is not None:
            self._filler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._filler

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()

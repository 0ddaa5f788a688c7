"""The test PostgreSQL: embedded by default, TEST_DATABASE_URL to use another server.

Migrations run once into a template database; every test gets a fresh copy of it, so tests
exercise real commits and never see each other's rows.
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
        return await self._ready.get()

    def release_database(self, url: str) -> None:
        self._doomed.put_nowait(url)

    async def _fill(self) -> None:
        # Cloning a database costs a few hundred milliseconds; PostgreSQL does it in its own
        # process while the current test runs, so tests rarely wait for one.
        assert self._ready is not None
        while True:
            while not self._doomed.empty():
                await self.drop_database(self._doomed.get_nowait())
            if self._ready.qsize() < PREPARED_DATABASES:
                await self._ready.put(await self.create_database())
            else:
                await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self._filler is not None:
            self._filler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._filler

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()

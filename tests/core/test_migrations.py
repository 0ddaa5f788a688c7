import asyncio

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from helpdesk_api.core import migrations
from helpdesk_api.core.db import create_engine, to_libpq_url
from helpdesk_api.models import Base


def _compare(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def _schema_diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_compare)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_on_an_empty_database(pg_server, template_ready):
    url = await pg_server.create_database(template=None)
    try:
        await asyncio.to_thread(migrations.upgrade, url)
        await asyncio.to_thread(migrations.downgrade, url, "base")
        await asyncio.to_thread(migrations.upgrade, url)
    finally:
        await pg_server.drop_database(url)


async def test_models_and_migrations_describe_the_same_schema(pg_server, template_ready):
    url = await pg_server.create_database(template=None)
    try:
        await asyncio.to_thread(migrations.upgrade, url)
        assert await _schema_diff(url) == []
    finally:
        await pg_server.drop_database(url)


async def test_search_documents_are_filled_for_tickets_that_existed_before(
    pg_server, template_ready
):
    url = await pg_server.create_database(template=None)
    try:
        await asyncio.to_thread(migrations.upgrade, url, "0005")
        connection = await asyncpg.connect(to_libpq_url(url))
        try:
            user_id = await connection.fetchval(
                "INSERT INTO users (name, role) VALUES ('Ann', 'agent') RETURNING id"
            )
            status_id = await connection.fetchval(
                "SELECT id FROM ticket_statuses WHERE category = 'open' LIMIT 1"
            )
            ids = []
            for subject in ("Printer jam", "Quiet ticket"):
                ids.append(
                    await connection.fetchval(
                        "INSERT INTO tickets (subject, requester_id, submitter_id, status_id, "
                        "status_category, priority, priority_rank, channel) "
                        "VALUES ($1, $2, $2, $3, 'open', 'normal', 2, 'api') RETURNING id",
                        subject,
                        user_id,
                        status_id,
                    )
                )
            await connection.execute(
                "INSERT INTO ticket_comments (ticket_id, author_id, body, is_public) "
                "VALUES ($1, $2, 'paper everywhere', true), ($1, $2, 'vendor called', false)",
                ids[0],
                user_id,
            )
            await asyncio.to_thread(migrations.upgrade, url)
            rows = await connection.fetch(
                "SELECT search_document::text AS staff, public_search_document::text AS public "
                "FROM tickets ORDER BY id"
            )
            assert [(r["staff"], r["public"]) for r in rows] == [
                (
                    "'called':6 'everywhere':4 'jam':2 'paper':3 'printer':1 'vendor':5",
                    "'everywhere':4 'jam':2 'paper':3 'printer':1",
                ),
                ("'quiet':1 'ticket':2", "'quiet':1 'ticket':2"),
            ]
            await asyncio.to_thread(migrations.downgrade, url, "0005")
            assert (
                await connection.fetchval(
                    "SELECT count(*) FROM ticket_comments WHERE search @@ 'vendor'::tsquery"
                )
                == 1
            )
        finally:
            await connection.close()
    finally:
        await pg_server.drop_database(url)


async def test_token_lifecycle_keeps_existing_tokens_both_ways(pg_server, template_ready):
    url = await pg_server.create_database(template=None)
    try:
        await asyncio.to_thread(migrations.upgrade, url, "0007")
        connection = await asyncpg.connect(to_libpq_url(url))
        try:
            user_id = await connection.fetchval(
                "INSERT INTO users (name, role) VALUES ('Ann', 'agent') RETURNING id"
            )
            await connection.execute(
                "INSERT INTO api_tokens (user_id, token_hash, name) VALUES ($1, 'x', 'old')",
                user_id,
            )
            await asyncio.to_thread(migrations.upgrade, url, "0008")
            row = await connection.fetchrow("SELECT name, expires_at, prefix FROM api_tokens")
            assert dict(row) == {"name": "old", "expires_at": None, "prefix": None}
            await connection.execute(
                "INSERT INTO login_throttles (scope, key, failures, last_failure_at) "
                "VALUES ('account', 'ann@example.com', 3, now())"
            )
            await asyncio.to_thread(migrations.downgrade, url, "0007")
            assert await connection.fetchval("SELECT name FROM api_tokens") == "old"
            assert await connection.fetchval("SELECT to_regclass('login_throttles')") is None
            await asyncio.to_thread(migrations.upgrade, url)
        finally:
            await connection.close()
    finally:
        await pg_server.drop_database(url)

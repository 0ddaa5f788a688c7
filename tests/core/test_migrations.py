import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from helpdesk_api.core import migrations
from helpdesk_api.core.db import create_engine
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

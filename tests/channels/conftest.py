from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.assembly import connect
from helpdesk_api.core.settings import Settings
from tests.conftest import make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Bridges and the Bot API stand-in live on loopback; production refuses such URLs.
    return make_settings(database_url, webhook_allow_private=True)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions as the worker makes them, for running its delivery job in the test."""
    engine, sessionmaker = connect(database_url, pool_size=2, max_overflow=0)
    try:
        yield sessionmaker
    finally:
        await engine.dispose()

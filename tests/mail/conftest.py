from collections.abc import AsyncIterator

import pytest

from tests.event_check import check_recorded_events
from tests.mail.imap_server import imap_server

__all__ = ["imap_server", "module_database"]


@pytest.fixture(scope="module")
async def module_database(pg_server, template_ready) -> AsyncIterator[str]:
    """A database for one module's tests, which share a process running against it (starting
    one costs seconds); each such test makes mailboxes of its own and looks only at them."""
    url = await pg_server.create_database()
    try:
        yield url
        await check_recorded_events(url)
    finally:
        await pg_server.drop_database(url)

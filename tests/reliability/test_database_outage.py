"""PostgreSQL restarted under write load: every request gets an answer (503 problem+json with
Retry-After while the database is away), nothing answered 201 is lost, and the API serves
again soon after the database is back."""

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.errors import is_database_outage
from helpdesk_api.main import create_app
from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, assert_problem
from tests.reliability.controlled_postgres import ControlledPostgres
from tests.webhooks.receiver import receiver
from tests.webhooks.worker_process import running_worker

WRITERS = 6
RECOVERY_BOUND_SECONDS = 5.0


@pytest.fixture(scope="module")
async def controlled_pg() -> AsyncIterator[ControlledPostgres]:
    server = ControlledPostgres()
    try:
        await server.prepare()
        yield server
    finally:
        server.close()


@pytest.fixture
async def outage_client(controlled_pg: ControlledPostgres) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(controlled_pg.url, db_pool_size=4, db_max_overflow=4)
    # raise_app_exceptions: an exception escaping the application fails the test, as a
    # reset connection would fail a real client.
    async with app_client(settings, raise_app_exceptions=True) as client:
        yield client


class Load:
    """Writers creating tickets as fast as they get answers, each answer kept with its time."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.answers: list[tuple[float, float, httpx.Response]] = []
        self.stopping = False

    async def _writer(self, n: int) -> None:
        while not self.stopping:
            sent = time.monotonic()
            response = await self.client.post(
                "/v1/tickets",
                json={"subject": f"Load {n}", "comment": {"body": "under load"}},
                headers=ADMIN,
            )
            self.answers.append((sent, time.monotonic(), response))
            if response.status_code != 201:
                await asyncio.sleep(0.02)

    async def run(self) -> None:
        await asyncio.gather(*(self._writer(n) for n in range(WRITERS)))

    def answered_between(self, start: float, end: float) -> list[httpx.Response]:
        return [r for sent, _, r in self.answers if sent >= start and sent <= end]


async def _wait_for_success(load: Load, since: float, seconds: float) -> float:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(sent >= since and r.status_code == 201 for sent, _, r in load.answers):
            return time.monotonic() - since
        await asyncio.sleep(0.02)
    raise AssertionError(f"no request succeeded within {seconds} s of the database's return")


async def test_restart_under_write_load_answers_503_and_loses_nothing(
    outage_client: httpx.AsyncClient, controlled_pg: ControlledPostgres
) -> None:
    client = outage_client
    in_use = REGISTRY.get_sample_value("helpdesk_db_pool_checked_out")
    load = Load(client)
    writers = asyncio.create_task(load.run())
    try:
        await _wait_for_success(load, time.monotonic(), RECOVERY_BOUND_SECONDS)

        await asyncio.to_thread(controlled_pg.stop)
        down_since = time.monotonic()
        await asyncio.sleep(0.7)
        ready = await client.get("/readyz")
        assert_problem(ready, 503)
        assert ready.headers["retry-after"]
        down_until = time.monotonic()

        await asyncio.to_thread(controlled_pg.start)
        back_since = time.monotonic()
        await _wait_for_success(load, back_since, RECOVERY_BOUND_SECONDS)
        await asyncio.sleep(0.3)
    finally:
        load.stopping = True
        await asyncio.wait_for(writers, 30)

    assert (await client.get("/readyz")).status_code == 200
    # Failed reconnects are reported by SQLAlchemy as checkins with no checkout: the
    # connections-in-use gauge must not count them (it went 121 below zero here).
    assert REGISTRY.get_sample_value("helpdesk_db_pool_checked_out") == in_use
    during = load.answered_between(down_since, down_until)
    assert len(during) >= WRITERS
    assert {r.status_code for r in during} == {503}
    for _, _, response in load.answers:
        assert response.status_code in (201, 503), response.text
        if response.status_code == 503:
            body = assert_problem(response, 503)
            assert body["type"] == "urn:helpdesk-api:problem:database-unavailable"
            assert int(response.headers["retry-after"]) >= 1

    acknowledged = {r.json()["id"] for _, _, r in load.answers if r.status_code == 201}
    connection = await asyncpg.connect(controlled_pg.url)
    try:
        stored = {
            row["id"]
            for row in await connection.fetch(
                "SELECT id FROM tickets WHERE id = ANY($1::bigint[])", list(acknowledged)
            )
        }
    finally:
        await connection.close()
    assert stored == acknowledged


async def test_event_stream_ends_cleanly_when_the_database_goes_away(
    outage_client: httpx.AsyncClient, controlled_pg: ControlledPostgres
) -> None:
    # The ASGI client returns the body once the stream has ended; an exception escaping the
    # stream (a reset connection on a real socket) would fail the request instead.
    stream = asyncio.create_task(outage_client.get("/v1/events/stream", headers=ADMIN))
    # Stop the database only once the stream listens (its answer has begun): before that, a
    # 503 would be the right answer, and on a busy machine that moment varies.
    watcher = await asyncpg.connect(controlled_pg.url)
    try:
        for _ in range(200):
            listening = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"
            )
            if listening:
                break
            await asyncio.sleep(0.05)
    finally:
        await watcher.close()
    assert listening
    await asyncio.sleep(0.2)
    assert not stream.done()
    await asyncio.to_thread(controlled_pg.stop)
    try:
        response = await asyncio.wait_for(stream, 10)
    finally:
        await asyncio.to_thread(controlled_pg.start)
    assert response.status_code == 200
    assert response.text.startswith(": connected")
    assert response.text.endswith("retry: 2000\n\n")


async def test_worker_wakes_on_new_events_again_after_a_restart(
    controlled_pg: ControlledPostgres,
) -> None:
    # Polling is an hour away: only a NOTIFY, on a LISTEN connection made again after the
    # restart, can bring the second delivery in time.
    settings = make_settings(controlled_pg.url, webhook_allow_private=True)
    async with app_client(settings) as client:
        with receiver() as endpoint:
            hook = await client.post(
                "/v1/webhooks",
                json={"url": endpoint.url, "events": ["ticket.created"]},
                headers=ADMIN,
            )
            assert hook.status_code == 201, hook.text
            with running_worker(controlled_pg.url, HELPDESK_WORKER_POLL_SECONDS="3600"):
                await _create_ticket(client)
                await asyncio.to_thread(endpoint.wait_for, 1)
                await asyncio.to_thread(controlled_pg.stop)
                await asyncio.sleep(0.5)
                await asyncio.to_thread(controlled_pg.start)
                await _create_ticket(client)
                await asyncio.to_thread(endpoint.wait_for, 2, 5.0)


async def _create_ticket(client: httpx.AsyncClient) -> None:
    """Create a ticket, retrying through the 503s of a database coming back."""
    for _ in range(50):
        response = await client.post(
            "/v1/tickets", json={"subject": "After", "comment": {"body": "b"}}, headers=ADMIN
        )
        if response.status_code == 201:
            return
        assert response.status_code == 503, response.text
        await asyncio.sleep(0.1)
    raise AssertionError("the API did not come back")


async def test_connection_lost_at_commit_is_503_and_the_pool_recovers(database_url: str) -> None:
    application = create_app(make_settings(database_url))
    router = APIRouter(route_class=TransactionalRoute)

    @router.post("/test/lose-connection", status_code=201)
    async def lose_connection(session: DB) -> dict[str, bool]:
        # The handler succeeds; the server then drops this connection before the commit.
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
        await session.execute(
            text("UPDATE users SET name = 'uncommitted' WHERE id = (SELECT min(id) FROM users)")
        )
        killer = await asyncpg.connect(database_url)
        try:
            await killer.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await killer.close()
        return {"done": True}

    application.include_router(router)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post("/test/lose-connection")
            body = assert_problem(response, 503)
            assert body["type"] == "urn:helpdesk-api:problem:database-unavailable"
            assert response.headers["retry-after"]
            # The broken connection was discarded, not handed to the next request.
            for _ in range(3):
                assert (await client.get("/v1/me", headers=ADMIN)).status_code == 200
    connection = await asyncpg.connect(database_url)
    try:
        assert (
            await connection.fetchval(
                "SELECT name FROM users WHERE id = (SELECT min(id) FROM users)"
            )
            != "uncommitted"
        )
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle"), True),
        (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), True),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), True),
        (asyncpg.exceptions.InterfaceError("another operation is in progress"), True),
        (asyncpg.exceptions.InternalClientError("cannot switch to state 12"), True),
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), False),
        (asyncpg.exceptions.DataError("invalid input for query argument $1"), False),
        (asyncpg.exceptions.SerializationError("could not serialize access"), False),
    ],
)
def test_outages_are_told_apart_from_refused_statements(error: Exception, outage: bool) -> None:
    wrapped = DBAPIError.instance("SELECT 1", None, error, Exception)
    assert is_database_outage(wrapped) is outage

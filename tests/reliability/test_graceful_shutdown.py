"""SIGTERM on real processes: `serve` finishes requests in flight and ends event streams at
once (instead of holding the drain until its timeout); `worker` finishes a delivery in flight
or, past the shutdown timeout, releases its lease; both exit 0."""

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from helpdesk_api.core.settings import Settings
from tests.conftest import make_settings
from tests.database import ADMIN_TOKEN
from tests.factories import ADMIN
from tests.live_server import free_port
from tests.tickets.factories import make_ticket
from tests.webhooks.receiver import receiver
from tests.webhooks.worker_process import start_worker

SHUTDOWN_TIMEOUT = 10


def _serve(database_url: str, port: int) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HELPDESK_RATE_LIMIT_PER_MINUTE": "0",
        "HELPDESK_ACCESS_LOG": "false",
        "HELPDESK_DATA_DIR": tempfile.mkdtemp(prefix="helpdesk-shutdown-"),
        "HELPDESK_SHUTDOWN_TIMEOUT_SECONDS": str(SHUTDOWN_TIMEOUT),
    }
    return subprocess.Popen(  # noqa: S603 — our own console script
        [sys.executable, "-m", "helpdesk_api", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_ready(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else b""
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("serve did not become ready")


@dataclass
class Stream:
    connected: threading.Event
    ended_at: float | None = None
    error: BaseException | None = None


def _open_stream(base_url: str) -> tuple[Stream, threading.Thread]:
    stream = Stream(connected=threading.Event())

    def read() -> None:
        try:
            with httpx.stream(
                "GET", f"{base_url}/v1/events/stream", headers=ADMIN, timeout=30
            ) as response:
                for line in response.iter_lines():
                    if line == ": connected":
                        stream.connected.set()
        except BaseException as exc:
            stream.error = exc
        stream.ended_at = time.monotonic()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    assert stream.connected.wait(10), "the stream did not connect"
    return stream, thread


async def _waiting_on_lock(connection: asyncpg.Connection) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return count


async def test_sigterm_finishes_requests_in_flight_and_ends_streams(pg_server, template_ready):
    url = await pg_server.create_database()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = _serve(url, port)
    locker = await asyncpg.connect(url)
    try:
        await asyncio.to_thread(_wait_ready, base_url, process)
        stream, stream_thread = await asyncio.to_thread(_open_stream, base_url)

        # A slow request: its INSERT waits on a lock this test holds.
        lock = locker.transaction()
        await lock.start()
        await locker.execute("LOCK TABLE tickets IN EXCLUSIVE MODE")
        slow = asyncio.create_task(
            asyncio.to_thread(
                httpx.post,
                f"{base_url}/v1/tickets",
                json={"subject": "In flight at shutdown", "comment": {"body": "hello"}},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                timeout=30,
            )
        )
        for _ in range(100):
            if await _waiting_on_lock(locker):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the slow request never reached the database")

        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        await asyncio.to_thread(stream_thread.join, 5)
        assert stream.ended_at is not None, "the stream outlived the shutdown"
        assert stream.error is None, repr(stream.error)  # ended cleanly, not reset
        assert stream.ended_at - signalled < 2.0
        # Still draining: the request in flight holds the process.
        await asyncio.sleep(0.3)
        assert process.poll() is None

        await lock.rollback()
        response = await asyncio.wait_for(slow, 10)
        assert response.status_code == 201, response.text
        returncode = await asyncio.to_thread(process.wait, SHUTDOWN_TIMEOUT)
        assert returncode == 0
        assert time.monotonic() - signalled < SHUTDOWN_TIMEOUT / 2
        stored = await locker.fetchval(
            "SELECT subject FROM tickets WHERE id = $1", response.json()["id"]
        )
        assert stored == "In flight at shutdown"
    finally:
        await locker.close()
        if process.poll() is None:
            process.kill()
            process.wait(5)
        await pg_server.drop_database(url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Webhooks to the test's own loopback receiver.
    return make_settings(database_url, webhook_allow_private=True)


async def _subscribe(client: httpx.AsyncClient, url: str) -> None:
    response = await client.post(
        "/v1/webhooks", json={"url": url, "events": ["ticket.created"]}, headers=ADMIN
    )
    assert response.status_code == 201, response.text


async def _delivery(database_url: str) -> asyncpg.Record:
    connection = await asyncpg.connect(database_url)
    try:
        row: asyncpg.Record = await connection.fetchrow(
            "SELECT status, attempts, claimed_until, next_attempt_at <= now() AS due, "
            "(SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id) AS logged "
            "FROM webhook_deliveries d"
        )
        return row
    finally:
        await connection.close()


def _terminate(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    returncode = process.wait(15)
    return returncode, time.monotonic() - signalled


async def test_worker_sigterm_finishes_the_delivery_in_flight(client, database_url):
    with receiver() as endpoint:
        endpoint.answers = [(200, 1.0, {})]
        await _subscribe(client, endpoint.url)
        await make_ticket(client)
        worker = start_worker(database_url, HELPDESK_SHUTDOWN_TIMEOUT_SECONDS="10")
        try:
            await asyncio.to_thread(endpoint.wait_for, 1)
            returncode, took = await asyncio.to_thread(_terminate, worker)
        finally:
            if worker.poll() is None:
                worker.kill()
        assert returncode == 0
        assert took < 5
        delivery = await _delivery(database_url)
        assert delivery["status"] == "succeeded"
        assert delivery["logged"] == 1


async def test_worker_sigterm_releases_a_delivery_that_outlasts_the_timeout(client, database_url):
    with receiver() as endpoint:
        endpoint.answers = [(200, 30.0, {})]  # hangs far beyond the shutdown timeout
        await _subscribe(client, endpoint.url)
        await make_ticket(client)
        worker = start_worker(
            database_url,
            HELPDESK_SHUTDOWN_TIMEOUT_SECONDS="1",
            HELPDESK_WEBHOOK_TIMEOUT_SECONDS="20",
        )
        try:
            await asyncio.to_thread(endpoint.wait_for, 1)
            returncode, took = await asyncio.to_thread(_terminate, worker)
        finally:
            if worker.poll() is None:
                worker.kill()
        assert returncode == 0
        assert took < 5
        delivery = await _delivery(database_url)
        # Released: due again at once for another worker, the unfinished attempt not counted.
        assert delivery["status"] == "pending"
        assert delivery["claimed_until"] is None
        assert delivery["attempts"] == 0
        assert delivery["due"] is True
        assert delivery["logged"] == 0

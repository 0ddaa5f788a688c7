"""The worker's SLA job: `sla.warning` and `sla.breached`, each once per metric cycle.

Most tests call the job directly with the time it runs at; the last one runs a real
`helpdesk-api worker` process against the database.
"""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta

import asyncpg
import pytest

from helpdesk_api.assembly import connect
from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.sla.tasks import process_due_sla
from tests.factories import ADMIN, make_user_with_token
from tests.sla.helpers import MONDAY_10_ROME, make_calendar, make_policy, metric, target
from tests.tickets.factories import audits, comment, make_ticket, status_id, update_ticket

T0 = MONDAY_10_ROME


@pytest.fixture
async def sessionmaker(database_url):
    engine, sessionmaker = connect(database_url, pool_size=2)
    yield sessionmaker
    await engine.dispose()


@pytest.fixture
async def db(database_url) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    yield connection
    await connection.close()


@pytest.fixture
async def policy(client):
    calendar = await make_calendar(client, name="24/7", always_open=True, hours=[])
    return await make_policy(
        client, calendar["id"], target("first_reply", 60), target("next_reply", 60)
    )


async def sla_events(db, ticket_id):
    rows = await db.fetch(
        "SELECT type, data, actor_id, actor_via, occurred_at FROM events "
        "WHERE ticket_id = $1 AND type LIKE 'sla.%' ORDER BY id",
        ticket_id,
    )
    return [dict(r) for r in rows]


async def test_nothing_to_watch_means_no_next_run(sessionmaker):
    assert await process_due_sla(sessionmaker, T0) is None


async def test_job_says_when_the_next_deadline_falls(client, clock, policy, sessionmaker):
    await make_ticket(client)
    assert await process_due_sla(sessionmaker, T0) == 45 * 60  # the warning, at 75%


async def test_warning_fires_once_at_the_warning_fraction(client, clock, policy, sessionmaker, db):
    ticket = await make_ticket(client)
    await process_due_sla(sessionmaker, T0 + timedelta(minutes=44))
    assert await sla_events(db, ticket["id"]) == []
    next_run = await process_due_sla(sessionmaker, T0 + timedelta(minutes=45))
    assert next_run == 15 * 60  # now the breach is next
    await process_due_sla(sessionmaker, T0 + timedelta(minutes=50))
    events = await sla_events(db, ticket["id"])
    assert [e["type"] for e in events] == ["sla.warning"]
    assert events[0]["actor_id"] is None
    assert events[0]["actor_via"] == "sla"


async def test_warning_and_breach_fire_once_and_are_audited(
    client, clock, policy, sessionmaker, db
):
    ticket = await make_ticket(client)
    await process_due_sla(sessionmaker, T0 + timedelta(minutes=45))
    await process_due_sla(sessionmaker, T0 + timedelta(minutes=60))
    await process_due_sla(sessionmaker, T0 + timedelta(minutes=61))
    events = await sla_events(db, ticket["id"])
    assert [e["type"] for e in events] == ["sla.warning", "sla.breached"]
    assert '"metric": "first_reply"' in events[1]["data"]
    sla_audits = [a for a in await audits(client, ticket["id"]) if a["via"] == "sla"]
    assert [a["actor_id"] for a in sla_audits] == [None, None]
    assert [a["changes"] for a in sla_audits] == [
        [{"field": "sla.first_reply", "from": "active", "to": "warning"}],
        [{"field": "sla.first_reply", "from": "active", "to": "breached"}],
    ]
    first = await metric(client, ticket["id"], "first_reply")
    assert first["status"] == "breached"


async def test_worker_late_past_the_breach_sends_no_stale_warning(
    client, clock, policy, sessionmaker, db
):
    ticket = await make_ticket(client)
    await process_due_sla(sessionmaker, T0 + timedelta(hours=3))
    assert [e["type"] for e in await sla_events(db, ticket["id"])] == ["sla.breached"]


async def test_breach_recorded_by_a_late_reply_is_still_announced_once(
    client, clock, policy, sessionmaker, db
):
    ticket = await make_ticket(client)
    clock.advance(minutes=90)
    await comment(client, ticket["id"], ADMIN, body="Sorry")
    await process_due_sla(sessionmaker, clock.now)
    await process_due_sla(sessionmaker, clock.now + timedelta(minutes=1))
    assert [e["type"] for e in await sla_events(db, ticket["id"])] == ["sla.breached"]


async def test_paused_and_achieved_clocks_are_never_announced(
    client, clock, policy, sessionmaker, db
):
    paused = await make_ticket(client)
    answered = await make_ticket(client)
    clock.advance(minutes=10)
    await update_ticket(client, paused["id"], status_id=await status_id(client, "pending"))
    await comment(client, answered["id"], ADMIN, body="Done")
    assert await process_due_sla(sessionmaker, T0 + timedelta(days=2)) is None
    assert await sla_events(db, paused["id"]) == []
    assert await sla_events(db, answered["id"]) == []


async def test_each_next_reply_cycle_breaches_once(client, clock, policy, sessionmaker, db):
    _, customer = await make_user_with_token(client)
    ticket = await make_ticket(client, customer)
    await comment(client, ticket["id"], ADMIN, body="Hi")
    for _ in range(2):
        await comment(client, ticket["id"], customer, body="Hello?")
        clock.advance(minutes=90)
        await process_due_sla(sessionmaker, clock.now)
        await comment(client, ticket["id"], ADMIN, body="Here")
        await process_due_sla(sessionmaker, clock.now + timedelta(minutes=1))
    breaches = [e for e in await sla_events(db, ticket["id"]) if e["type"] == "sla.breached"]
    assert ['"cycle": 1' in e["data"] for e in breaches] == [True, False]
    assert ['"cycle": 2' in e["data"] for e in breaches] == [False, True]


async def _wait_for_listener(db):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listening = await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
        )
        if listening:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the worker did not start listening within 30 s")


@contextmanager
def running_worker(database_url: str) -> Iterator[subprocess.Popen[bytes]]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HELPDESK_LOG_LEVEL": "warning",
        "HELPDESK_WORKER_POLL_SECONDS": "30",  # it must wake for the deadline, not by polling
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "helpdesk_api", "worker"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()


async def test_real_worker_announces_the_breach_once_and_on_time(client, database_url, policy, db):
    with running_worker(database_url) as worker:
        await _wait_for_listener(db)
        ticket = await make_ticket(client)  # real time: no clock override here
        # Its 60-minute clock started 59 min 58 s ago: the warning (at 45 min) is overdue and
        # the breach 2 s away.
        breach_at = await db.fetchval(
            "UPDATE ticket_sla_metrics SET started_at = now() - interval '3598 seconds', "
            "warning_at = now() - interval '898 seconds', due_at = now() - interval '898 seconds',"
            " breach_at = now() + interval '2 seconds' "
            "WHERE ticket_id = $1 AND metric = 'first_reply' RETURNING breach_at",
            ticket["id"],
        )
        # Any ticket change wakes the worker (NOTIFY on its event), as in production.
        await comment(client, ticket["id"], ADMIN, body="looking", public=False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            types = [e["type"] for e in await sla_events(db, ticket["id"])]
            if "sla.breached" in types:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # would a second announcement follow?
        events = await sla_events(db, ticket["id"])
        assert worker.poll() is None, worker.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
        assert [e["type"] for e in events] == ["sla.warning", "sla.breached"]
        late_by = (events[1]["occurred_at"] - breach_at).total_seconds()
        assert 0 <= late_by < 2, late_by

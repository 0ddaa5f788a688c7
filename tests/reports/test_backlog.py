"""Daily backlog snapshots (the worker's job, called with the time it runs at) and the age of
the open backlog now."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.assembly import connect
from helpdesk_api.reports import take_backlog_snapshot
from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.sla.helpers import FixedClock
from tests.tickets.factories import make_group, make_ticket, status_id, update_ticket

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine, sessionmaker = connect(database_url, pool_size=2)
    yield sessionmaker
    await engine.dispose()


async def test_snapshots_once_a_day_and_ages_of_open_tickets(
    client: httpx.AsyncClient,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    agent, agent_headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    mine = await make_group(client, "Mine", agent["id"])
    other = await make_group(client, "Other")
    clock.set(MONDAY - timedelta(days=10))
    old = await make_ticket(client, group_id=mine["id"], priority="high")
    clock.set(MONDAY - timedelta(hours=5))
    pending = await make_ticket(client, group_id=other["id"])
    await update_ticket(client, pending["id"], status_id=await status_id(client, "pending"))
    clock.set(MONDAY - timedelta(minutes=30))
    done = await make_ticket(client, group_id=mine["id"])
    await update_ticket(client, done["id"], status_id=await status_id(client, "solved"))

    # Monday: three runs, one snapshot; Tuesday after the old ticket was solved.
    next_run = await take_backlog_snapshot(sessionmaker, MONDAY)
    assert next_run == 15 * 3600  # until midnight UTC
    await take_backlog_snapshot(sessionmaker, MONDAY + timedelta(hours=1))
    clock.set(MONDAY + timedelta(hours=2))
    await update_ticket(client, old["id"], status_id=await status_id(client, "solved"))
    await take_backlog_snapshot(sessionmaker, MONDAY + timedelta(hours=3))
    await take_backlog_snapshot(sessionmaker, MONDAY + timedelta(days=1))

    days = {"from": "2026-11-23", "to": "2026-11-24"}
    response = await client.get("/v1/reports/backlog", params=days, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert [(p["day"], p["tickets"]) for p in response.json()["data"]] == [
        ("2026-11-23", 2), ("2026-11-24", 1)
    ]  # fmt: skip
    by_category = await client.get(
        "/v1/reports/backlog", params=days | {"group_by": "status_category"}, headers=ADMIN
    )
    assert [(p["day"], p["group"], p["tickets"]) for p in by_category.json()["data"]] == [
        ("2026-11-23", "new", 1), ("2026-11-23", "pending", 1), ("2026-11-24", "pending", 1)
    ]  # fmt: skip
    # The agent works in "Mine" only: the pending ticket is another group's.
    theirs = await client.get(
        "/v1/reports/backlog", params=days | {"group_by": "group"}, headers=agent_headers
    )
    assert [(p["day"], p["group"], p["tickets"]) for p in theirs.json()["data"]] == [
        ("2026-11-23", str(mine["id"]), 1)
    ]

    clock.set(MONDAY + timedelta(hours=3))
    ages = await client.get("/v1/reports/backlog/age", headers=ADMIN)
    assert ages.status_code == 200, ages.text
    table = {b["age"]: b["tickets"] for b in ages.json()["data"]}
    assert table["8h_24h"] == {"new": 0, "open": 0, "pending": 1, "on_hold": 0}
    assert sum(sum(b.values()) for b in table.values()) == 1
    assert (
        sum(
            sum(b["tickets"].values())
            for b in (await client.get("/v1/reports/backlog/age", headers=agent_headers)).json()[
                "data"
            ]
        )
        == 0
    )


async def test_backlog_refuses_bad_input_and_customers(client: httpx.AsyncClient) -> None:
    path = "/v1/reports/backlog"
    for params in ({"from": "2026-11-24", "to": "2026-11-23"},
                   {"from": "2020-01-01", "to": "2026-01-01"},
                   {"from": "2026-11-23", "to": "2026-11-24", "group_by": "moon"},
                   {"from": "monday", "to": "2026-11-24"}):  # fmt: skip
        assert_problem(await client.get(path, params=params, headers=ADMIN), 422)
    _, customer = await make_user_with_token(client)
    assert_problem(await client.get(f"{path}/age", headers=customer), 403)

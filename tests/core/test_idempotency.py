import asyncio
from datetime import UTC, datetime

import asyncpg

from helpdesk_api.core.db import create_engine, create_sessionmaker
from helpdesk_api.core.idempotency import _lock_id, purge_expired_keys
from tests.factories import ADMIN, assert_problem, make_user_with_token


async def _count_users(client):
    return len((await client.get("/v1/users?limit=100", headers=ADMIN)).json()["data"])


async def test_same_key_and_body_replays_the_first_response(client):
    headers = {**ADMIN, "Idempotency-Key": "create-ann"}
    body = {"name": "Ann", "email": "ann@example.com"}
    first = await client.post("/v1/users", json=body, headers=headers)
    again = await client.post("/v1/users", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await _count_users(client) == 2


async def test_same_key_with_another_body_is_422(client):
    headers = {**ADMIN, "Idempotency-Key": "k1"}
    await client.post("/v1/users", json={"name": "Ann"}, headers=headers)
    body = assert_problem(
        await client.post("/v1/users", json={"name": "Bob"}, headers=headers), 422
    )
    assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await _count_users(client) == 2


async def test_keys_are_scoped_to_the_caller(client):
    _, other_admin = await make_user_with_token(client, role="admin")
    body = {"name": "Same"}
    first = await client.post("/v1/users", json=body, headers={**ADMIN, "Idempotency-Key": "k"})
    second = await client.post(
        "/v1/users", json=body, headers={**other_admin, "Idempotency-Key": "k"}
    )
    assert first.json()["id"] != second.json()["id"]


async def test_failed_request_does_not_burn_the_key(client):
    headers = {**ADMIN, "Idempotency-Key": "retry-after-fix"}
    await client.post("/v1/users", json={"name": "Taken", "email": "t@example.com"}, headers=ADMIN)
    clash = await client.post(
        "/v1/users", json={"name": "X", "email": "t@example.com"}, headers=headers
    )
    assert_problem(clash, 409)
    again = await client.post(
        "/v1/users", json={"name": "X", "email": "t@example.com"}, headers=headers
    )
    assert_problem(again, 409)
    assert "idempotent-replayed" not in again.headers


async def test_concurrent_duplicate_is_409_while_the_first_is_in_flight(client, database_url):
    # Hold the advisory lock the first request would hold, from another connection.
    me = (await client.get("/v1/me", headers=ADMIN)).json()
    holder = await asyncpg.connect(database_url)
    try:
        async with holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock($1)", _lock_id(me["id"], "busy"))
            response = await client.post(
                "/v1/users", json={"name": "Z"}, headers={**ADMIN, "Idempotency-Key": "busy"}
            )
            assert_problem(response, 409)
    finally:
        await holder.close()
    after = await client.post(
        "/v1/users", json={"name": "Z"}, headers={**ADMIN, "Idempotency-Key": "busy"}
    )
    assert after.status_code == 201


async def test_racing_duplicates_create_exactly_one(client):
    headers = {**ADMIN, "Idempotency-Key": "race"}
    responses = await asyncio.gather(
        *(client.post("/v1/users", json={"name": "Racer"}, headers=headers) for _ in range(8))
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1
    assert await _count_users(client) == 2


async def test_expired_keys_are_purged_by_the_worker_job(client, database_url):
    await client.post(
        "/v1/users", json={"name": "Old"}, headers={**ADMIN, "Idempotency-Key": "old"}
    )
    await client.post(
        "/v1/users", json={"name": "New"}, headers={**ADMIN, "Idempotency-Key": "new"}
    )
    connection = await asyncpg.connect(database_url)
    await connection.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'"
    )
    engine = create_engine(database_url)
    try:
        await purge_expired_keys(create_sessionmaker(engine), datetime.now(UTC))
    finally:
        await engine.dispose()
    keys = [r["key"] for r in await connection.fetch("SELECT key FROM idempotency_keys")]
    await connection.close()
    assert keys == ["new"]

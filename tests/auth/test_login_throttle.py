"""Password logins back off per account and per client address (defaults: 5 free failures
per account, 20 per address, then 2 s doubling up to 15 min), at request times the test sets."""

import asyncio
import threading
from datetime import timedelta

from helpdesk_api.users import passwords
from tests.auth.helpers import client_from, login
from tests.factories import ADMIN, assert_problem, bearer, make_user

PASSWORD = "correct horse battery"


async def _user(client, email):
    return await make_user(client, role="agent", email=email, password=PASSWORD)


def _throttled(response, retry_after):
    body = assert_problem(response, 429)
    assert response.headers["retry-after"] == str(retry_after)
    return body


async def test_right_password_is_refused_after_failures_until_the_backoff_passes(client, clock):
    await _user(client, "ann@example.com")
    for _ in range(5):
        assert_problem(await login(client, "ann@example.com", "wrong"), 401)
    _throttled(await login(client, "ann@example.com", PASSWORD), 2)
    clock.advance(seconds=1)
    _throttled(await login(client, "ann@example.com", PASSWORD), 1)
    clock.advance(seconds=1)
    assert (await login(client, "ann@example.com", PASSWORD)).status_code == 201


async def test_each_further_failure_doubles_the_wait(client, clock):
    await _user(client, "bob@example.com")
    for _ in range(5):
        await login(client, "bob@example.com", "wrong")
    for wait in (2, 4, 8, 16):
        _throttled(await login(client, "bob@example.com", "wrong"), wait)
        clock.advance(seconds=wait)
        assert_problem(await login(client, "bob@example.com", "wrong"), 401)
    _throttled(await login(client, "bob@example.com", PASSWORD), 32)


async def test_refused_attempts_do_not_extend_the_lock(client, clock):
    await _user(client, "cy@example.com")
    for _ in range(5):
        await login(client, "cy@example.com", "wrong")
    for _ in range(10):
        _throttled(await login(client, "cy@example.com", "wrong"), 2)
    clock.advance(seconds=2)
    assert (await login(client, "cy@example.com", PASSWORD)).status_code == 201


async def test_a_success_resets_the_accounts_count(client, clock):
    await _user(client, "dee@example.com")
    for _ in range(4):
        assert_problem(await login(client, "dee@example.com", "wrong"), 401)
    assert (await login(client, "dee@example.com", PASSWORD)).status_code == 201
    for _ in range(4):
        assert_problem(await login(client, "dee@example.com", "wrong"), 401)
    assert (await login(client, "dee@example.com", PASSWORD)).status_code == 201


async def test_old_failures_are_forgotten(client, clock):
    await _user(client, "eve@example.com")
    for _ in range(4):
        await login(client, "eve@example.com", "wrong")
    clock.advance(hours=1, seconds=1)
    for _ in range(4):
        assert_problem(await login(client, "eve@example.com", "wrong"), 401)
    assert (await login(client, "eve@example.com", PASSWORD)).status_code == 201


async def test_an_unknown_email_is_throttled_too(client, clock):
    for _ in range(5):
        assert_problem(await login(client, "nobody@example.com", "guess"), 401)
    _throttled(await login(client, "nobody@example.com", "guess"), 2)
    # Not a valid address at all: still counted, under the text as typed.
    for _ in range(5):
        assert_problem(await login(client, "not an address", "guess"), 401)
    _throttled(await login(client, "NOT AN ADDRESS ", "guess"), 2)


async def test_case_and_spacing_do_not_buy_fresh_attempts(client, clock):
    await _user(client, "fay@example.com")
    for email in ("fay@example.com", "FAY@example.com", " Fay@Example.com", "fay@EXAMPLE.COM"):
        await login(client, email, "wrong")
    await login(client, "fay@example.com", "wrong")
    _throttled(await login(client, "FAY@EXAMPLE.COM", PASSWORD), 2)


async def test_another_account_from_another_address_is_not_affected(app, clock):
    async with client_from(app, "203.0.113.7") as attacker, client_from(app, "198.51.100.9") as c:
        await _user(attacker, "victim@example.com")
        await _user(attacker, "bystander@example.com")
        for _ in range(5):
            await login(attacker, "victim@example.com", "wrong")
        _throttled(await login(attacker, "victim@example.com", PASSWORD), 2)
        assert (await login(c, "bystander@example.com", PASSWORD)).status_code == 201
        # Another account from the attacker's own address is fine too (below the address's
        # allowance), while the locked account stays locked from every address.
        assert (await login(attacker, "bystander@example.com", PASSWORD)).status_code == 201
        _throttled(await login(c, "victim@example.com", PASSWORD), 2)


async def test_an_address_spraying_many_accounts_is_throttled(app, clock):
    async with client_from(app, "203.0.113.8") as sprayer, client_from(app, "198.51.100.10") as c:
        await _user(c, "real@example.com")
        for n in range(20):
            assert_problem(await login(sprayer, f"user{n}@example.com", "Winter2026!"), 401)
        _throttled(await login(sprayer, "real@example.com", PASSWORD), 2)
        assert (await login(c, "real@example.com", PASSWORD)).status_code == 201


async def test_parallel_guesses_get_no_more_attempts_than_sequential_ones(client, clock):
    await _user(client, "gus@example.com")
    responses = await asyncio.gather(
        *(login(client, "gus@example.com", f"guess {n}") for n in range(12))
    )
    assert sorted(r.status_code for r in responses) == [401] * 5 + [429] * 7


async def test_a_flood_of_logins_does_not_stall_other_requests(app, client):
    """While every password thread is busy, queued logins wait off the event loop and hold
    no database connection (the test pool has 15): /v1/me still answers. The e-mails are
    unknown, so this also shows they queue for a (dummy) hash check like any other login."""
    release = threading.Event()
    blockers = [
        asyncio.create_task(passwords.run_in_password_pool(release.wait))
        for _ in range(passwords.POOL_THREADS)
    ]
    logins = []
    try:
        logins = [
            asyncio.create_task(login(client, f"flood{n}@example.com", "guess")) for n in range(18)
        ]
        me = await asyncio.wait_for(client.get("/v1/me", headers=ADMIN), timeout=60)
        assert me.status_code == 200
        assert not any(task.done() for task in logins)
    finally:
        release.set()
        await asyncio.gather(*blockers)
        results = await asyncio.gather(*logins)
    assert [r.status_code for r in results] == [401] * 18


async def test_too_many_waiting_password_checks_are_shed_with_429(client, monkeypatch):
    monkeypatch.setattr(passwords, "MAX_WAITING", 0)
    response = await login(client, "anyone@example.com", "guess")
    assert_problem(response, 429)
    assert response.headers["retry-after"] == "1"


async def test_login_token_works_and_can_expire(client, clock):
    user = await _user(client, "hal@example.com")
    expires = clock.now.replace(microsecond=0) + timedelta(hours=1)
    response = await client.post(
        "/v1/auth/token",
        json={"email": "hal@example.com", "password": PASSWORD, "expires_at": expires.isoformat()},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user_id"] == user["id"]
    assert body["expires_at"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S"))
    assert (await client.get("/v1/me", headers=bearer(body["token"]))).status_code == 200
    clock.advance(hours=1)
    assert_problem(await client.get("/v1/me", headers=bearer(body["token"])), 401)


async def test_login_with_an_expiry_in_the_past_is_422_and_costs_no_attempt(client, clock):
    await _user(client, "ivy@example.com")
    past = "2020-01-01T00:00:00Z"
    for _ in range(10):
        response = await client.post(
            "/v1/auth/token",
            json={"email": "ivy@example.com", "password": "wrong", "expires_at": past},
        )
        assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "expires_at"]
    assert (await login(client, "ivy@example.com", PASSWORD)).status_code == 201

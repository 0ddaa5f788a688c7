"""Rate limits: per user once a token has authenticated, per client address before that."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager

from helpdesk_api.core.client_address import ClientAddress
from helpdesk_api.main import create_app
from tests.conftest import make_settings
from tests.factories import ADMIN, assert_problem, make_user_with_token

# One a minute with a burst of 3: four requests at once, then one a minute. A slower refill
# (one a second) let a loaded CI machine earn a token back between the fourth and fifth request.
LIMITS = {"rate_limit_per_minute": 1, "rate_limit_burst": 3}


@asynccontextmanager
async def limited_client(
    database_url: str, *, client: tuple[str, int] = ("203.0.113.7", 5000), **overrides: object
) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(make_settings(database_url, **{**LIMITS, **overrides}))
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


def bogus() -> dict[str, str]:
    return {"Authorization": f"Bearer hd_{secrets.token_urlsafe(16)}"}


async def test_random_bogus_tokens_from_one_address_share_its_budget(database_url):
    async with limited_client(database_url) as client:
        statuses = [(await client.get("/v1/me", headers=bogus())).status_code for _ in range(4)]
        assert statuses == [401] * 4
        limited = await client.get("/v1/me", headers=bogus())
        body = assert_problem(limited, 429)
        assert "client" in body["detail"]
        assert int(limited.headers["retry-after"]) >= 1
        # No token at all is the same client.
        assert_problem(await client.get("/v1/me"), 429)


async def test_two_users_have_separate_budgets(database_url):
    async with limited_client(database_url, rate_limit_per_minute=0) as setup:
        _, first = await make_user_with_token(setup, role="agent")
        _, second = await make_user_with_token(setup, role="agent")
    async with limited_client(database_url) as client:
        assert [(await client.get("/v1/me", headers=first)).status_code for _ in range(4)] == [
            200
        ] * 4
        body = assert_problem(await client.get("/v1/me", headers=first), 429)
        assert "user" in body["detail"]
        assert (await client.get("/v1/me", headers=second)).status_code == 200
        # The user's requests were not charged to the address they came from.
        assert_problem(await client.get("/v1/me", headers=bogus()), 401)


async def test_a_second_token_of_the_same_user_shares_the_users_budget(database_url):
    async with limited_client(database_url, rate_limit_per_minute=0) as setup:
        user, first = await make_user_with_token(setup, role="agent")
        response = await setup.post(f"/v1/users/{user['id']}/tokens", json={}, headers=ADMIN)
        second = {"Authorization": f"Bearer {response.json()['token']}"}
    async with limited_client(database_url) as client:
        for _ in range(2):
            assert (await client.get("/v1/me", headers=first)).status_code == 200
            assert (await client.get("/v1/me", headers=second)).status_code == 200
        assert_problem(await client.get("/v1/me", headers=second), 429)


async def test_a_token_that_stops_working_goes_back_to_its_address_budget(database_url):
    async with limited_client(database_url, rate_limit_per_minute=0) as setup:
        user, headers = await make_user_with_token(setup, role="agent")
    async with limited_client(database_url, rate_limit_burst=20) as client:
        assert (await client.get("/v1/me", headers=headers)).status_code == 200
        # Deactivating the user ends the token (the admin's request is charged to the admin).
        assert (await client.delete(f"/v1/users/{user['id']}", headers=ADMIN)).status_code == 204
        assert_problem(await client.get("/v1/me", headers=headers), 401)
        # Every later use is charged to the address, like any unknown token.
        statuses = [(await client.get("/v1/me", headers=headers)).status_code for _ in range(25)]
        assert 429 in statuses
        assert_problem(await client.get("/v1/me", headers=bogus()), 429)


async def test_forwarded_for_is_ignored_unless_configured(database_url):
    async with limited_client(database_url) as client:
        for n in range(4):
            forwarded = {**bogus(), "X-Forwarded-For": f"198.51.100.{n}"}
            assert (await client.get("/v1/me", headers=forwarded)).status_code == 401
        spoofed = {**bogus(), "X-Forwarded-For": "198.51.100.99"}
        assert_problem(await client.get("/v1/me", headers=spoofed), 429)


async def test_a_configured_proxy_header_names_the_client(database_url):
    async with limited_client(
        database_url, client=("10.0.0.2", 5000), trusted_proxy_header="X-Forwarded-For"
    ) as client:
        one = {"X-Forwarded-For": "198.51.100.1"}
        for _ in range(4):
            assert (await client.get("/v1/me", headers={**bogus(), **one})).status_code == 401
        assert_problem(await client.get("/v1/me", headers={**bogus(), **one}), 429)
        # What the client wrote itself sits left of what our proxy appended: it changes nothing.
        spoofed = {"X-Forwarded-For": "192.0.2.50, 198.51.100.1"}
        assert_problem(await client.get("/v1/me", headers={**bogus(), **spoofed}), 429)
        other = {"X-Forwarded-For": "198.51.100.1, 198.51.100.2"}
        assert (await client.get("/v1/me", headers={**bogus(), **other})).status_code == 401


async def test_a_proxy_header_from_an_untrusted_peer_is_ignored(database_url):
    async with limited_client(
        database_url,
        client=("203.0.113.9", 5000),
        trusted_proxy_header="X-Forwarded-For",
        trusted_proxies=["10.0.0.0/8"],
    ) as client:
        for n in range(4):
            forwarded = {**bogus(), "X-Forwarded-For": f"198.51.100.{n}"}
            assert (await client.get("/v1/me", headers=forwarded)).status_code == 401
        assert_problem(
            await client.get("/v1/me", headers={**bogus(), "X-Forwarded-For": "198.51.100.77"}),
            429,
        )


def _scope(peer: str, *headers: tuple[str, str]) -> dict[str, object]:
    return {
        "client": (peer, 1234),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
    }


def test_client_address_without_a_header_is_the_peer():
    resolver = ClientAddress()
    assert resolver.key(_scope("192.0.2.1", ("X-Forwarded-For", "1.2.3.4"))) == b"addr:192.0.2.1"


def test_client_address_counts_proxies_from_the_right():
    resolver = ClientAddress.from_settings("X-Forwarded-For", 2, [])
    scope = _scope(
        "10.0.0.1", ("X-Forwarded-For", "6.6.6.6, 198.51.100.4"), ("X-Forwarded-For", "10.0.0.9")
    )
    assert resolver.key(scope) == b"addr:198.51.100.4"
    # Fewer entries than proxies: the header did not come through ours; the peer is the client.
    assert resolver.key(_scope("10.0.0.1", ("X-Forwarded-For", "1.2.3.4"))) == b"addr:10.0.0.1"


def test_client_address_skips_trusted_proxies_from_the_right():
    resolver = ClientAddress.from_settings("x-forwarded-for", 1, ["10.0.0.0/8", "fd00::/8"])
    scope = _scope("10.1.1.1", ("X-Forwarded-For", "6.6.6.6, 198.51.100.4:443, 10.2.2.2"))
    assert resolver.key(scope) == b"addr:198.51.100.4"
    assert resolver.key(_scope("192.0.2.8", ("X-Forwarded-For", "6.6.6.6"))) == b"addr:192.0.2.8"


def test_client_address_groups_ipv6_by_64_and_tolerates_garbage():
    resolver = ClientAddress.from_settings("X-Real-IP", 1, [])
    first = resolver.key(_scope("::1", ("X-Real-IP", "[2001:db8:1:2::1]:80")))
    second = resolver.key(_scope("::1", ("X-Real-IP", "2001:db8:1:2:ffff::9")))
    assert first == second == b"addr:2001:db8:1:2::/64"
    assert resolver.key(_scope("192.0.2.3", ("X-Real-IP", "not an address"))) == b"addr:192.0.2.3"
    assert resolver.key(_scope("::ffff:192.0.2.3")) == b"addr:192.0.2.3"

"""Security headers on every response, errors included, and CORS only for listed origins."""

import httpx
import pytest

from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, assert_problem, make_user
from tests.live_server import running_server

ORIGIN = "https://desk.example.com"


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


async def test_success_is_not_stored(client):
    response = await client.get("/v1/me", headers=ADMIN)
    assert response.status_code == 200
    assert_security_headers(response)
    assert response.headers["cache-control"] == "no-store"


async def test_a_resource_with_an_etag_may_be_revalidated_but_not_shared(client):
    user = await make_user(client, role="agent")
    response = await client.get(f"/v1/users/{user['id']}", headers=ADMIN)
    assert response.headers["etag"]
    assert response.headers["cache-control"] == "private, no-cache"
    assert_security_headers(response)


async def test_errors_carry_the_headers(client):
    for response in (
        await client.get("/v1/nothing-here"),
        await client.get("/v1/me"),
        await client.get("/v1/users/999999", headers=ADMIN),
        await client.post("/v1/users", json={"name": "x" * 2_000_000}, headers=ADMIN),
    ):
        assert response.status_code in (401, 404, 413)
        assert_problem(response, response.status_code)
        assert_security_headers(response)
        assert response.headers["cache-control"] == "no-store"


async def test_a_429_carries_the_headers(database_url):
    settings = make_settings(database_url, rate_limit_per_minute=60, rate_limit_burst=1)
    async with app_client(settings) as client:
        responses = [await client.get("/v1/me") for _ in range(3)]
        assert_problem(responses[-1], 429)
        assert_security_headers(responses[-1])
        assert responses[-1].headers["cache-control"] == "no-store"


async def test_health_carries_the_headers(client):
    assert_security_headers(await client.get("/healthz"))


@pytest.fixture
async def live_server(pg_server, template_ready):
    url = await pg_server.create_database()
    with running_server(url) as base_url:
        yield base_url
    await pg_server.drop_database(url)


def test_the_event_stream_keeps_its_own_cache_headers(live_server):
    # A stream needs a real socket; its headers are all that is read here.
    with httpx.stream(
        "GET", f"{live_server}/v1/events/stream", headers=ADMIN, timeout=10
    ) as response:
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        assert_security_headers(response)


async def test_cors_is_off_by_default(client):
    preflight = await client.options(
        "/v1/me", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert_problem(preflight, 405)
    assert "access-control-allow-origin" not in preflight.headers
    simple = await client.get("/v1/me", headers={**ADMIN, "Origin": ORIGIN})
    assert "access-control-allow-origin" not in simple.headers


@pytest.fixture
async def cors_client(database_url):
    settings = make_settings(
        database_url,
        cors_origins=[ORIGIN],
        rate_limit_per_minute=60,
        rate_limit_burst=3,
    )
    async with app_client(settings) as client:
        yield client


async def test_preflight_from_a_listed_origin_is_allowed(cors_client):
    response = await cors_client.options(
        "/v1/tickets/1",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "PATCH" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "if-match", "idempotency-key", "last-event-id"):
        assert header in allowed
    assert "access-control-allow-credentials" not in response.headers
    assert_security_headers(response)


async def test_preflight_from_another_origin_is_a_problem(cors_client):
    response = await cors_client.options(
        "/v1/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    body = assert_problem(response, 400)
    assert "origin" in body["detail"].lower()
    assert "access-control-allow-origin" not in response.headers


async def test_preflight_asking_for_an_unlisted_header_is_refused(cors_client):
    response = await cors_client.options(
        "/v1/me",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-secret-sauce",
        },
    )
    assert_problem(response, 400)


async def test_responses_to_a_listed_origin_expose_what_a_frontend_reads(cors_client):
    created = await cors_client.post(
        "/v1/users", json={"name": "Ann", "role": "agent"}, headers={**ADMIN, "Origin": ORIGIN}
    )
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == ORIGIN
    exposed = {
        h.strip().lower() for h in created.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "location", "retry-after", "idempotent-replayed", "x-request-id"} <= exposed
    other = await cors_client.get("/v1/me", headers={**ADMIN, "Origin": "https://evil.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers


async def test_a_listed_origin_can_read_a_429(cors_client):
    responses = [await cors_client.get("/v1/me", headers={"Origin": ORIGIN}) for _ in range(5)]
    limited = responses[-1]
    assert_problem(limited, 429)
    assert limited.headers["access-control-allow-origin"] == ORIGIN
    assert "retry-after" in limited.headers["access-control-expose-headers"].lower()
    assert_security_headers(limited)

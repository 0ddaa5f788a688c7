"""Every error is an RFC 9457 problem document; nothing internal leaks."""

import asyncpg
import pytest

from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, assert_problem


async def test_unknown_route_is_a_404_problem(client):
    body = assert_problem(await client.get("/v1/nothing-here"), 404)
    assert "/v1/nothing-here" in body["detail"]


async def test_wrong_method_is_a_405_problem_that_says_what_is_allowed(client):
    response = await client.put("/v1/me", headers=ADMIN)
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"
    templated = await client.put("/v1/tickets/5/comments", headers=ADMIN)
    assert_problem(templated, 405)
    assert templated.headers["allow"] == "GET, POST"
    # A literal path beside a templated one (/v1/views/{view_id}) is its own resource: a
    # method it lacks is a 405, not a bad id.
    for method in ("PATCH", "DELETE", "POST"):
        literal = await client.request(method, "/v1/views/counts?ids=1", headers=ADMIN)
        assert_problem(literal, 405)
        assert literal.headers["allow"] == "GET"
    assert_problem(await client.patch("/v1/triggers/order", json={}, headers=ADMIN), 405)
    # The most specific path wins: /links/reply over /links/{linked_id}.
    reply = await client.delete("/v1/tickets/1/links/reply", headers=ADMIN)
    assert_problem(reply, 405)
    assert reply.headers["allow"] == "POST"


async def test_missing_token_is_401_with_challenge(client):
    response = await client.get("/v1/me")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_garbage_token_is_401(client):
    assert_problem(await client.get("/v1/me", headers={"Authorization": "Bearer nope"}), 401)
    assert_problem(await client.get("/v1/me", headers={"Authorization": "Basic YTpi"}), 401)


async def test_malformed_json_is_a_422_problem(client):
    response = await client.post(
        "/v1/users", content=b'{"name": ', headers={**ADMIN, "content-type": "application/json"}
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["type"] == "json_invalid"


async def test_wrong_types_are_a_422_problem_with_field_errors(client):
    response = await client.post("/v1/users", json={"name": ["x"], "role": "wizard"}, headers=ADMIN)
    body = assert_problem(response, 422)
    locations = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "name") in locations
    assert ("body", "role") in locations


async def test_path_ids_out_of_range_are_422_not_500(client):
    assert_problem(await client.get("/v1/users/99999999999999999999", headers=ADMIN), 422)
    assert_problem(await client.get("/v1/users/0", headers=ADMIN), 422)


async def test_request_id_is_echoed_or_generated(client):
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await client.get("/v1/me")
    assert len(generated.headers["x-request-id"]) == 32
    assert generated.json()["request_id"] == generated.headers["x-request-id"]
    unsafe = await client.get("/healthz", headers={"X-Request-ID": "a b\tc"})
    assert unsafe.headers["x-request-id"] != "a b\tc"


async def test_oversized_body_is_413_and_nothing_is_written(client):
    big = {"name": "x", "notes": "n" * 2_000_000}
    response = await client.post("/v1/users", json=big, headers=ADMIN)
    assert_problem(response, 413)
    users = await client.get("/v1/users", headers=ADMIN)
    assert len(users.json()["data"]) == 1  # only the seeded admin


async def test_chunked_oversized_body_is_413(client):
    async def chunks():
        for _ in range(40):
            yield b"x" * 65536

    response = await client.post(
        "/v1/users", content=chunks(), headers={**ADMIN, "content-type": "application/json"}
    )
    assert_problem(response, 413)


@pytest.mark.alters_schema
async def test_failed_commit_is_a_5xx_and_nothing_is_saved(database_url):
    # A deferred constraint fails only at COMMIT: after the handler has built its 201.
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    await connection.execute(
        "ALTER TABLE users ADD CONSTRAINT users_name_deferred UNIQUE (name) "
        "DEFERRABLE INITIALLY DEFERRED"
    )
    await connection.close()
    async with app_client(make_settings(database_url), raise_app_exceptions=False) as client:
        response = await client.post(
            "/v1/users", json={"name": "Test Admin", "email": "clash@example.com"}, headers=ADMIN
        )
        assert_problem(response, 500)
        listed = await client.get("/v1/users", headers=ADMIN)
        assert [u["name"] for u in listed.json()["data"]] == ["Test Admin"]


async def test_rate_limit_answers_429_with_retry_after(database_url):
    settings = make_settings(database_url, rate_limit_per_minute=60, rate_limit_burst=3)
    async with app_client(settings) as client:
        statuses = [(await client.get("/v1/me", headers=ADMIN)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 200]
        limited = await client.get("/v1/me", headers=ADMIN)
        assert_problem(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        # Another token has its own budget.
        other = await client.get("/v1/me", headers={"Authorization": "Bearer other"})
        assert other.status_code == 401


async def test_readyz_reports_ready_on_a_migrated_database(client):
    assert (await client.get("/readyz")).json() == {"status": "ok"}
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_readyz_is_503_when_migrations_are_behind(pg_server, template_ready):
    url = await pg_server.create_database(template=None)
    try:
        async with app_client(make_settings(url)) as client:
            assert_problem(await client.get("/readyz"), 503)
    finally:
        await pg_server.drop_database(url)


async def test_nul_characters_are_a_422_not_a_500(client):
    response = await client.get("/v1/organizations", params={"q": "a\x00b"}, headers=ADMIN)
    assert_problem(response, 422)
    created = await client.post("/v1/users", json={"name": "bad\u0000name"}, headers=ADMIN)
    assert_problem(created, 422)
    assert len((await client.get("/v1/users", headers=ADMIN)).json()["data"]) == 1


async def test_unknown_query_parameters_are_refused(client):
    response = await client.get("/v1/users?rol=admin", headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {"loc": ["query", "rol"], "msg": "Unknown query parameter", "type": "extra_forbidden"}
    ]

"""/metrics: Prometheus text for the bearer of its token, labelled by route template."""

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import httpx

from helpdesk_api.core.metrics import observe_job
from helpdesk_api.sla.tasks import process_due_sla
from helpdesk_api.webhooks.delivery import DeliveryJob
from tests.conftest import app_client, make_settings
from tests.factories import ADMIN, assert_problem, make_user
from tests.live_server import running_server
from tests.metrics.conftest import METRICS_TOKEN
from tests.metrics.helpers import SCRAPER, samples, scrape, value
from tests.sla.helpers import MONDAY_10_ROME, clock, make_calendar, make_policy, target
from tests.tickets.factories import make_ticket
from tests.webhooks.receiver import receiver

__all__ = ["clock"]

REQUESTS = "helpdesk_http_requests_total"


async def test_metrics_are_off_without_a_token_setting(database_url):
    async with app_client(make_settings(database_url)) as client:
        assert_problem(await client.get("/metrics", headers=SCRAPER), 404)


async def test_metrics_need_their_token(client):
    for headers in ({}, ADMIN, {"Authorization": "Bearer " + METRICS_TOKEN[:-1] + "x"}):
        response = await client.get("/metrics", headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert "helpdesk_http_requests_total" in await scrape(client)


async def test_metrics_are_not_in_the_openapi_document(app):
    assert "/metrics" not in app.openapi()["paths"]


async def test_requests_are_counted_by_route_template(client):
    user = await make_user(client, role="agent")
    before = await scrape(client)
    labels = {"method": "GET", "route": "/v1/users/{user_id}"}
    assert (await client.get(f"/v1/users/{user['id']}", headers=ADMIN)).status_code == 200
    assert (await client.get("/v1/users/999999", headers=ADMIN)).status_code == 404
    after = await scrape(client)
    assert value(after, REQUESTS, **labels, status="200") == (
        value(before, REQUESTS, **labels, status="200") + 1
    )
    assert value(after, REQUESTS, **labels, status="404") == (
        value(before, REQUESTS, **labels, status="404") + 1
    )
    assert f'/v1/users/{user["id"]}"' not in after
    histogram = samples(after, "helpdesk_http_request_duration_seconds_count")
    assert histogram[frozenset(labels.items())] >= 1


async def test_unknown_paths_share_one_label(client):
    before = await scrape(client)
    nonce = secrets.token_hex(8)
    for n in range(3):
        assert_problem(await client.get(f"/v1/nothing-{nonce}-{n}"), 404)
    assert_problem(await client.request("BREW", f"/v1/{nonce}"), 404)
    after = await scrape(client)
    assert nonce not in after
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, REQUESTS, **unmatched) == value(before, REQUESTS, **unmatched) + 3
    assert value(after, REQUESTS, method="other", route="unmatched", status="404") >= 1


async def test_a_429_is_counted_under_its_route(database_url):
    settings = make_settings(
        database_url, metrics_token=METRICS_TOKEN, rate_limit_per_minute=60, rate_limit_burst=1
    )
    async with app_client(settings) as client:
        statuses = [(await client.get("/v1/me")).status_code for _ in range(3)]
        assert statuses[-1] == 429
        text = await scrape(client)
    assert value(text, REQUESTS, method="GET", route="/v1/me", status="429") >= 1


async def test_database_pool_is_reported(client):
    text = await scrape(client)
    assert value(text, "helpdesk_db_pool_size") >= 5
    assert value(text, "helpdesk_db_pool_limit") >= value(text, "helpdesk_db_pool_size")
    assert value(text, "helpdesk_db_pool_checked_out") >= 0
    assert "helpdesk_db_pool_checked_out" in text


async def test_webhook_backlog_and_delivery_outcomes(client, app, settings):
    with receiver() as endpoint:
        hook = await client.post("/v1/webhooks", json={"url": endpoint.url}, headers=ADMIN)
        assert hook.status_code == 201
        assert (
            await client.post(f"/v1/webhooks/{hook.json()['id']}/ping", headers=ADMIN)
        ).status_code == 202
        waiting = await scrape(client)
        assert value(waiting, "helpdesk_worker_backlog_up") == 1
        assert value(waiting, "helpdesk_worker_due_items", job="webhook-delivery") == 1
        assert value(waiting, "helpdesk_worker_lag_seconds", job="webhook-delivery") >= 0
        succeeded = value(waiting, "helpdesk_webhook_delivery_attempts_total", outcome="succeeded")

        job = DeliveryJob(settings)
        try:
            await job(app.state.sessionmaker, datetime.now(UTC))
            await asyncio.wait(job.in_flight, timeout=10)
        finally:
            await job.close()
        await asyncio.to_thread(endpoint.wait_for, 1)

    done = await scrape(client)
    assert value(done, "helpdesk_worker_due_items", job="webhook-delivery") == 0
    assert value(done, "helpdesk_worker_lag_seconds", job="webhook-delivery") == 0
    assert (
        value(done, "helpdesk_webhook_delivery_attempts_total", outcome="succeeded")
        == succeeded + 1
    )


async def test_sla_breaches_are_counted(client, app, clock):
    calendar = await make_calendar(client, name="24/7", always_open=True, hours=[])
    await make_policy(client, calendar["id"], target("first_reply", 60))
    await make_ticket(client)
    before = await scrape(client)
    assert value(before, "helpdesk_worker_due_items", job="sla") >= 1  # due long ago
    await process_due_sla(app.state.sessionmaker, MONDAY_10_ROME + timedelta(hours=2))
    after = await scrape(client)
    breaches = "helpdesk_sla_breaches_total"
    assert value(after, breaches, metric="first_reply") == (
        value(before, breaches, metric="first_reply") + 1
    )


async def test_worker_job_passes_and_failures_are_counted(client):
    before = await scrape(client)
    with observe_job("metrics-test"):
        pass
    try:
        with observe_job("metrics-test"):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    after = await scrape(client)
    runs = "helpdesk_worker_job_duration_seconds_count"
    assert value(after, runs, job="metrics-test") == value(before, runs, job="metrics-test") + 2
    failures = "helpdesk_worker_job_failures_total"
    assert value(after, failures, job="metrics-test") == (
        value(before, failures, job="metrics-test") + 1
    )


async def _get(url: str) -> int:
    async with httpx.AsyncClient() as client:  # a connection of its own: any process answers
        return (await client.get(url)).status_code


async def test_several_server_processes_report_together(pg_server, template_ready):
    url = await pg_server.create_database()
    try:
        env = {"HELPDESK_WORKERS": "2", "HELPDESK_METRICS_TOKEN": METRICS_TOKEN}
        with running_server(url, **env) as base_url:
            statuses = await asyncio.gather(*(_get(f"{base_url}/healthz") for _ in range(40)))
            assert set(statuses) == {200}
            totals = set()
            for _ in range(6):
                async with httpx.AsyncClient(base_url=base_url) as client:
                    text = await scrape(client)
                totals.add(value(text, REQUESTS, method="GET", route="/healthz", status="200"))
        # Whichever process answered a scrape, it reported all forty requests.
        assert totals == {40.0}
    finally:
        await pg_server.drop_database(url)

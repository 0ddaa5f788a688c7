"""Prometheus metrics: what the processes count, and the middleware that counts requests.

Each process counts in its own memory; with several processes (``serve --workers N``, or the
worker sharing a host with the API) each writes its values under ``PROMETHEUS_MULTIPROC_DIR``
and ``/metrics`` adds them up. prometheus_client reads that variable when it is first
imported, so ``serve`` sets it before its worker processes start (see ``multiprocess_dir``).
"""

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.routing import iter_route_contexts
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Fixed when prometheus_client chose where values live: a later change would not move them.
_MULTIPROC_DIR = os.environ.get(MULTIPROC_ENV)
UNMATCHED_ROUTE = "unmatched"

REQUESTS = Counter(
    "helpdesk_http_requests",
    "HTTP requests answered, by route template (never the raw path) and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "helpdesk_http_request_duration_seconds",
    "Time until the response headers were sent (for the SSE stream: until it opened).",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DB_POOL_CHECKED_OUT = Gauge(
    "helpdesk_db_pool_checked_out",
    "Database connections in use by the API processes.",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "helpdesk_db_pool_size",
    "Connections the API processes' pools keep open (pool_size).",
    multiprocess_mode="livesum",
)
DB_POOL_LIMIT = Gauge(
    "helpdesk_db_pool_limit",
    "Connections the API processes' pools may open at most (pool_size + max_overflow).",
    multiprocess_mode="livesum",
)
WEBHOOK_ATTEMPTS = Counter(
    "helpdesk_webhook_delivery_attempts",
    "Webhook delivery attempts by outcome: succeeded, retrying, failed (410 Gone), gave_up.",
    ["outcome"],
)
WEBHOOK_ATTEMPT_SECONDS = Histogram(
    "helpdesk_webhook_delivery_attempt_duration_seconds",
    "Time of one delivery attempt, resolution and sending included.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
MAIL_SEND_ATTEMPTS = Counter(
    "helpdesk_mail_send_attempts",
    "Outbound e-mail attempts by outcome: sent, retrying, failed.",
    ["outcome"],
)
MAIL_SEND_SECONDS = Histogram(
    "helpdesk_mail_send_duration_seconds",
    "Time of one attempt to hand a message to the SMTP relay.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
WORKER_JOB_SECONDS = Histogram(
    "helpdesk_worker_job_duration_seconds",
    "Time of one pass of a worker job.",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
WORKER_JOB_FAILURES = Counter(
    "helpdesk_worker_job_failures", "Passes of a worker job that raised.", ["job"]
)
SLA_BREACHES = Counter("helpdesk_sla_breaches", "SLA breaches announced, by metric.", ["metric"])

_DELIVERY_OUTCOMES = {"pending": "retrying"}


def record_delivery(status: str, duration_ms: int) -> None:
    """One attempt, by the status its delivery was left in."""
    WEBHOOK_ATTEMPTS.labels(_DELIVERY_OUTCOMES.get(status, status)).inc()
    WEBHOOK_ATTEMPT_SECONDS.observe(duration_ms / 1000)


def record_mail_send(status: str, duration_ms: int) -> None:
    """One attempt, by the status its message was left in."""
    MAIL_SEND_ATTEMPTS.labels(_DELIVERY_OUTCOMES.get(status, status)).inc()
    MAIL_SEND_SECONDS.observe(duration_ms / 1000)


@contextmanager
def observe_job(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except Exception:
        WORKER_JOB_FAILURES.labels(name).inc()
        raise
    finally:
        WORKER_JOB_SECONDS.labels(name).observe(time.perf_counter() - started)


def instrument_pool(engine: AsyncEngine, *, pool_size: int, max_overflow: int) -> None:
    """Count the engine's connections in use; undone by ``release_pool`` when disposed."""
    DB_POOL_SIZE.inc(pool_size)
    DB_POOL_LIMIT.inc(pool_size + max_overflow)
    event.listen(engine.sync_engine, "checkout", _checked_out)
    event.listen(engine.sync_engine, "checkin", _checked_in)


def release_pool(engine: AsyncEngine, *, pool_size: int, max_overflow: int) -> None:
    event.remove(engine.sync_engine, "checkout", _checked_out)
    event.remove(engine.sync_engine, "checkin", _checked_in)
    DB_POOL_SIZE.dec(pool_size)
    DB_POOL_LIMIT.dec(pool_size + max_overflow)


# SQLAlchemy also reports a "checkin" for a connection that failed to open (a database
# outage), which no "checkout" preceded: counted blindly, the gauge drifted below zero for
# good. Each pool entry remembers whether its checkout was counted.
_COUNTED = "helpdesk_metrics_counted"


def _checked_out(_connection: Any, entry: ConnectionPoolEntry, _proxy: Any) -> None:
    if entry.record_info is not None:
        entry.record_info[_COUNTED] = True
        DB_POOL_CHECKED_OUT.inc()


def _checked_in(_connection: Any, entry: ConnectionPoolEntry) -> None:
    if entry.record_info is not None and entry.record_info.pop(_COUNTED, False):
        DB_POOL_CHECKED_OUT.dec()


def render(*extra: Collector) -> bytes:
    """The text exposition of every process' metrics, and of collectors read just now."""
    if _MULTIPROC_DIR:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=_MULTIPROC_DIR)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    text = generate_latest(registry)
    if extra:
        scrape = CollectorRegistry(auto_describe=False)
        for collector in extra:
            scrape.register(collector)
        text += generate_latest(scrape)
    return text


@contextmanager
def multiprocess_dir(workers: int) -> Iterator[None]:
    """For ``serve --workers N``: a fresh directory where the worker processes share their
    values, unless the operator named one (shared with ``helpdesk-api worker``, say)."""
    if workers <= 1 or os.environ.get(MULTIPROC_ENV):
        yield
        return
    path = tempfile.mkdtemp(prefix="helpdesk-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


def _route_template(scope: Scope, status: int) -> str:
    # The routed APIRoute; its path is the whole template, as no router is included with a
    # prefix of its own (api.py).
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    # Answered before routing (413, 429, CORS preflight): find the template the path would
    # have reached. A 404 without a route has none; its raw path must not become a label.
    if status == 404:
        return UNMATCHED_ROUTE
    partial = UNMATCHED_ROUTE
    for route in iter_route_contexts(getattr(scope.get("app"), "routes", [])):
        match, _ = route.matches(scope)
        if match is Match.FULL and route.path_format:
            return route.path_format
        if match is Match.PARTIAL and route.path_format and partial == UNMATCHED_ROUTE:
            partial = route.path_format
    return partial


class MetricsMiddleware:
    """Counts every HTTP response by method, route template and status, and times it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answered = False

        def observe(status: int) -> None:
            route = _route_template(scope, status)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            REQUESTS.labels(method, route, str(status)).inc()
            REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - started)

        async def send_observed(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                observe(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            if not answered:  # the 500 is sent by Starlette's outermost error middleware
                observe(500)


# Anything else would let a client mint label values.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

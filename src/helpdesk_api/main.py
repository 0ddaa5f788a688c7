"""create_app(): lifespan, middleware, error handlers."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from helpdesk_api.api import build_router
from helpdesk_api.assembly import connect
from helpdesk_api.core.client_address import ClientAddress
from helpdesk_api.core.cors import ProblemCORSMiddleware
from helpdesk_api.core.errors import install_error_handlers
from helpdesk_api.core.idempotency import install_idempotency
from helpdesk_api.core.metrics import MetricsMiddleware, instrument_pool, release_pool
from helpdesk_api.core.middleware import (
    BodySizeLimitMiddleware,
    RateLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from helpdesk_api.core.migrations import head_revisions
from helpdesk_api.core.openapi import install_openapi
from helpdesk_api.core.settings import Settings, get_settings
from helpdesk_api.core.shutdown import on_shutdown_signal

API_DESCRIPTION = """
An API-first help desk: tickets from every channel, public replies and private notes, custom
statuses, SLAs in business hours, automation and signed webhooks.

Errors are RFC 9457 `application/problem+json` documents. Lists paginate by opaque cursor.
Creating `POST`s honour `Idempotency-Key`; `PATCH`/`DELETE` honour `If-Match`.
"""


def _operation_id(route: APIRoute) -> str:
    """The handler's name in camelCase (``list_tickets`` → ``listTickets``): generated clients
    name their methods after it, and Python generators turn it back into ``list_tickets``."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _end_streams(app: FastAPI) -> None:
    """Long-lived responses (the SSE stream) watch this and end, so the server's drain
    waits only for ordinary requests."""
    app.state.shutting_down.set()
    notifier = getattr(app.state, "event_notifier", None)
    if notifier is not None:
        notifier.wake_all()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Read at start-up, not captured: a test suite may serve several databases in turn
        # from one application object.
        settings: Settings = app.state.settings
        if settings.database_url is None:
            raise RuntimeError(
                "DATABASE_URL is not set: start the service with `helpdesk-api serve`, "
                "which provides an embedded PostgreSQL, or set DATABASE_URL."
            )
        pool = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}
        engine, app.state.sessionmaker = connect(settings.database_url, settings=settings, **pool)
        instrument_pool(engine, **pool)
        app.state.engine = engine
        app.state.migration_heads = head_revisions()
        app.state.shutting_down = asyncio.Event()
        stop_watching = on_shutdown_signal(lambda: _end_streams(app))
        try:
            yield
        finally:
            stop_watching()
            _end_streams(app)
            notifier = getattr(app.state, "event_notifier", None)
            if notifier is not None:
                await notifier.close()
            # Made on first use and kept for the app's life; a test suite serves several
            # databases in turn from one application object, and a count cached from one
            # database must not answer for the next.
            for name in ("event_notifier", "attachment_storage", "view_counts"):
                if hasattr(app.state, name):
                    delattr(app.state, name)
            await engine.dispose()
            release_pool(engine, **pool)

    app = FastAPI(
        title="helpdesk-api",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_idempotency(app)
    install_openapi(app)
    app.include_router(build_router())
    # Added innermost first: the request context wraps everything, so 413/429 carry the id;
    # CORS wraps the limits, so a browser can read their 413 and 429 too; metrics count all.
    app.add_middleware(
        RateLimitMiddleware,
        per_minute=settings.rate_limit_per_minute,
        burst=settings.rate_limit_burst,
        client_address=ClientAddress.from_settings(
            settings.trusted_proxy_header, settings.trusted_proxy_count, settings.trusted_proxies
        ),
    )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        overrides={
            "/v1/attachments": settings.max_attachment_bytes,
            # Raw inbound messages, attachments and all.
            "/v1/email-channels": settings.smtp_max_message_bytes,
            # A web form's request with its files, base64-encoded in the JSON.
            "/v1/public/requests": settings.web_form_max_body_bytes,
        },
    )
    if settings.cors_origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            origins=settings.cors_origins,
            max_age=settings.cors_max_age_seconds,
        )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, access_log=settings.access_log)
    return app

"""The helpdesk-api command: serve, worker, smtp, migrate, create-admin, openapi."""

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.assembly import connect, worker_jobs
from helpdesk_api.core import migrations
from helpdesk_api.core.embedded import EmbeddedPostgres
from helpdesk_api.core.errors import ProblemError
from helpdesk_api.core.logging import configure_logging
from helpdesk_api.core.metrics import multiprocess_dir
from helpdesk_api.core.settings import Settings, get_settings
from helpdesk_api.mail.smtp_listener import ListenerConfigError, run_smtp
from helpdesk_api.main import create_app
from helpdesk_api.users.bootstrap import bootstrap, create_admin
from helpdesk_api.worker.runner import run_worker

app = typer.Typer(help="helpdesk-api: an API-first help desk backend.", no_args_is_help=True)
T = TypeVar("T")
OPENAPI_PATH = Path("openapi/openapi.json")


def _run_in_session(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine, sessionmaker = connect(url, pool_size=1, max_overflow=0)
        try:
            async with sessionmaker() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


class _Database:
    """DATABASE_URL when set; otherwise the embedded PostgreSQL, stopped on exit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded: EmbeddedPostgres | None = None

    def __enter__(self) -> str:
        if self.settings.database_url:
            return self.settings.database_url
        # uvicorn re-raises SIGTERM once it has shut down; the default action would kill this
        # process before the embedded PostgreSQL is stopped. Turn it into a normal exit.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        self.embedded = EmbeddedPostgres(self.settings.data_dir)
        url = self.embedded.start()
        # Worker processes of uvicorn read their settings from the environment.
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        return url

    def __exit__(self, *exc: object) -> None:
        if self.embedded is not None:
            self.embedded.stop()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: HELPDESK_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="Default: HELPDESK_PORT or 8000")] = None,
    workers: Annotated[int | None, typer.Option(help="Default: HELPDESK_WORKERS or 1")] = None,
) -> None:
    """Apply migrations and serve the API (on an embedded PostgreSQL when DATABASE_URL is unset)."""
    settings = get_settings()
    configure_logging(settings.log_level)
    workers = workers or settings.workers
    # uvicorn drains on SIGTERM, then raises it again; exit 0 then, as after Ctrl-C, rather
    # than die of the signal (and, with the embedded PostgreSQL, before it is stopped).
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with _Database(settings) as url, multiprocess_dir(workers):
        migrations.upgrade(url)
        token = _run_in_session(
            url, lambda s: bootstrap(s, bootstrap_token=settings.bootstrap_token)
        )
        if token:
            typer.echo(
                "\nA first admin (admin@localhost) was created. Its API token, shown only once:\n"
                f"\n    {token}\n\nUse it as `Authorization: Bearer {token}`.\n"
            )
        uvicorn.run(
            "helpdesk_api.main:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            log_config=None,
            proxy_headers=True,
            timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        )


@app.command()
def worker() -> None:
    """Deliver webhooks and mail, poll IMAP mailboxes and run timed jobs (SLA breaches, …);
    run as many as you like."""
    settings = get_settings()
    configure_logging(settings.log_level)
    with _Database(settings) as url:
        settings = settings.model_copy(update={"database_url": url})
        asyncio.run(run_worker(settings, connect, worker_jobs(settings)))


async def _serve_smtp(settings: Settings, url: str) -> None:
    engine, sessionmaker = connect(
        url,
        settings=settings,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    try:
        await run_smtp(settings, sessionmaker)
    finally:
        await engine.dispose()


@app.command()
def smtp() -> None:
    """Receive mail for the mailboxes' addresses over SMTP (HELPDESK_SMTP_LISTEN_*)."""
    settings = get_settings()
    configure_logging(settings.log_level)
    with _Database(settings) as url:
        settings = settings.model_copy(update={"database_url": url})
        try:
            asyncio.run(_serve_smtp(settings, url))
        except ListenerConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc


@app.command()
def migrate() -> None:
    """Apply every pending migration."""
    settings = get_settings()
    with _Database(settings) as url:
        migrations.upgrade(url)
    typer.echo("migrations applied")


@app.command("create-admin")
def create_admin_command(
    email: Annotated[str, typer.Option(help="The admin's e-mail address")],
    name: Annotated[str, typer.Option(help="Display name")] = "Admin",
) -> None:
    """Create an admin and print a new API token as the last line."""
    settings = get_settings()
    with _Database(settings) as url:
        migrations.upgrade(url)
        try:
            token = _run_in_session(url, lambda s: create_admin(s, email=email, name=name))
        except ProblemError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(token)


def _openapi_text() -> str:
    document = create_app(Settings(database_url=None)).openapi()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@app.command()
def openapi(
    check: Annotated[bool, typer.Option(help="Exit 1 if the committed file is stale")] = False,
    path: Annotated[Path, typer.Option(help="Where the document lives")] = OPENAPI_PATH,
) -> None:
    """Write the OpenAPI document (or check that the committed one is current)."""
    text = _openapi_text()
    if check:
        if not path.exists() or path.read_text() != text:
            typer.echo(f"{path} is stale: run `helpdesk-api openapi`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{path} is current")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    typer.echo(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

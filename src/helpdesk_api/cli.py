"""The helpdesk-api command: serve, worker, smtp, migrate, create-admin, import, openapi."""

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.assembly import connect, worker_jobs
from helpdesk_api.core import migrations
from helpdesk_api.core.embedded import EmbeddedPostgres
from helpdesk_api.core.errors import ProblemError
from helpdesk_api.core.logging import configure_logging
from helpdesk_api.core.metrics import multiprocess_dir
from helpdesk_api.core.settings import Settings, get_settings
from helpdesk_api.imports.batches import Outcome, import_parsed
from helpdesk_api.imports.csv_rows import CsvLayoutError, ParsedFile, parse
from helpdesk_api.mail.smtp_listener import ListenerConfigError, run_smtp
from helpdesk_api.main import create_app
from helpdesk_api.users.bootstrap import bootstrap, create_admin
from helpdesk_api.worker.runner import run_worker

app = typer.Typer(help="helpdesk-api: an API-first help desk backend.", no_args_is_help=True)
import_app = typer.Typer(help="Import history from another help desk.", no_args_is_help=True)
app.add_typer(import_app, name="import")
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


WORKER_HEALTHCHECK_SECONDS = 60


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
            # Workers are spawned and import the application before they can answer the
            # supervisor's ping; on a busy machine that takes longer than uvicorn's 5 s,
            # and it killed and respawned them for ever (the service never came up).
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
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


async def _import_parsed(settings: Settings, url: str, parsed: ParsedFile) -> Outcome:
    engine, sessionmaker = connect(url, settings=settings, pool_size=1, max_overflow=0)
    # Progress on stderr: stdout keeps the report, for scripts.
    progress = Progress(
        TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=Console(stderr=True),
    )  # fmt: skip
    try:
        with progress:
            task = progress.add_task("tickets", total=len(parsed.tickets))
            return await import_parsed(
                sessionmaker,
                parsed.tickets,
                now=datetime.now(UTC),
                advance=lambda n: progress.advance(task, n),
            )
    finally:
        await engine.dispose()


@import_app.command("csv")
def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A UTF-8 CSV file")],
) -> None:
    """Import tickets from a spreadsheet: one row per comment, grouped into tickets by
    external_id (columns: external_id, subject, created_at, requester_email, body; optional
    requester_name, requester_external_id, status, priority, type, channel, tags,
    author_email, author_name, author_external_id, public, comment_created_at).

    Tickets already imported (by external_id) are left as they are. A ticket with a bad row
    is left out whole, each bad row reported by line; the good tickets are imported and the
    exit status is 1. A file that cannot be read as a whole imports nothing (exit 2)."""
    settings = get_settings()
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            parsed = parse(handle)
    except (CsvLayoutError, UnicodeDecodeError) as exc:
        typer.echo(f"error: {file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    with _Database(settings) as url:
        outcome = asyncio.run(_import_parsed(settings, url, parsed))
    errors = sorted(parsed.errors + outcome.errors)
    for line, message in errors:
        typer.echo(f"{file}:{line}: {message}", err=True)
    typer.echo(
        f"{outcome.created} tickets imported, {outcome.existing} already there, "
        f"{len({line for line, _ in errors})} rows left out"
    )
    if errors:
        raise typer.Exit(1)


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

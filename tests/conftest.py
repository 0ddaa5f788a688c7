import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from helpdesk_api.core.settings import Settings
from helpdesk_api.main import create_app
from tests.database import ADMIN_TOKEN, TestServer
from tests.event_check import check_recorded_events


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TestServer]:
    server = TestServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def template_ready(pg_server: TestServer) -> AsyncIterator[None]:
    await pg_server.create_template()
    yield
    await pg_server.close()


@pytest.fixture
async def database_url(
    pg_server: TestServer, template_ready: None, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    url = await pg_server.take_database()
    yield url
    reusable = request.node.get_closest_marker("alters_schema") is None
    try:
        if reusable and request.node.get_closest_marker("unchecked_events") is None:
            await check_recorded_events(url)
    finally:
        pg_server.release_database(url, reusable=reusable)


# Short: dovecot's and PostgreSQL's Unix sockets live below it, and a socket path has at
# most 107 bytes.
_TEMP_PREFIX = "hdt-"
_temp_root: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Everything the run writes to temporary directories (test clusters, live servers' data,
    real SMTP, IMAP and Alertmanager processes, pytest's tmp_path) goes under one directory
    of this run, removed when it ends: left behind, a day's runs filled the disk and the next
    run's PostgreSQL failed every test after it. xdist's workers inherit TMPDIR and each
    takes a subdirectory; the controller removes the whole."""
    global _temp_root
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        root = Path(tempfile.gettempdir()) / worker
        root.mkdir(exist_ok=True)
    else:
        _remove_orphans(Path(tempfile.gettempdir()))
        root = _temp_root = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-"))
    os.environ["TMPDIR"] = str(root)
    tempfile.tempdir = str(root)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _temp_root is not None:
        shutil.rmtree(_temp_root, ignore_errors=True)


def _remove_orphans(parent: Path) -> None:
    """Directories of runs that were killed before they could clean up; never a live run's."""
    for path in parent.glob(f"{_TEMP_PREFIX}*-*"):
        pid = path.name.removeprefix(_TEMP_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _data_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "data"
    path.mkdir(exist_ok=True)
    return path


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        # Never the working tree's .helpdesk/.
        "data_dir": _data_dir(),
        "rate_limit_per_minute": 0,
        "access_log": False,
        "db_pool_size": 5,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


# Building the application costs ~1 s (two hundred routes and their models): tests that
# differ only in their database and data directory share one, started afresh for each test.
_shared_apps: dict[str, FastAPI] = {}
_apps_in_use: set[int] = set()


@asynccontextmanager
async def started_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The shared application for these settings, started on their database; a fresh one
    when a test already runs it (two servers in one test), or when it limits rates: the
    budgets live in its middleware, and one test's spending must not limit the next."""
    key = settings.model_dump_json(exclude={"database_url", "data_dir"})
    application = _shared_apps.get(key)
    if application is None or id(application) in _apps_in_use or settings.rate_limit_per_minute:
        application = create_app(settings)
        if not settings.rate_limit_per_minute:
            _shared_apps.setdefault(key, application)
    application.state.settings = settings
    _apps_in_use.add(id(application))
    try:
        async with LifespanManager(application):
            yield application
    finally:
        _apps_in_use.discard(id(application))
        application.dependency_overrides.clear()


@asynccontextmanager
async def app_client(
    settings: Settings, *, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app of its own, for tests that need settings of their own. Not the
    shared one: with it, the suite's process-wide pool gauge went negative (an unexplained
    interaction, tests/metrics), so these keep an app each."""
    application = create_app(settings)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with started_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

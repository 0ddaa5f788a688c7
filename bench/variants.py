"""The service with the cheap fixes bench/README.md proposes, applied from outside `src/`, to
measure what they are worth before anyone changes the code:

- `get_db` and `current_time` as `async def` (FastAPI runs a plain `def` dependency in a
  worker thread on every request);
- no pool pre-ping (three round trips before every request: BEGIN, an empty statement,
  ROLLBACK); asyncpg still notices a dead connection when it is used.

Served like the service: `uvicorn bench.variants:create_app --factory --workers N`.
"""

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import helpdesk_api.main as service_main
from helpdesk_api.core import clock, db
from helpdesk_api.core.settings import get_settings


async def get_db_async(request: Request) -> AsyncSession:
    return db.get_db(request)


async def current_time_async() -> datetime:
    return datetime.now(UTC)


def _engine_without_pre_ping(url: str, **kwargs: Any) -> AsyncEngine:
    engine = db.create_engine(url, **kwargs)
    engine.sync_engine.pool._pre_ping = False
    return engine


def create_app() -> FastAPI:
    service_main.create_engine = _engine_without_pre_ping
    app = service_main.create_app(get_settings())
    app.dependency_overrides[db.get_db] = get_db_async
    app.dependency_overrides[clock.current_time] = current_time_async
    return app

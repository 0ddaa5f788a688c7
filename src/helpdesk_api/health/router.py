import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from helpdesk_api.core.errors import (
    PROBLEM_MEDIA_TYPE,
    DatabaseUnavailable,
    Problem,
    ServiceUnavailable,
)

router = APIRouter(tags=["health"])

# A probe must answer before the orchestrator's own timeout (Kubernetes: 1 s by default
# is common, often raised): a hung connect or an exhausted pool is "not ready", not a hang.
READY_TIMEOUT_SECONDS = 2.0


class Health(BaseModel):
    status: str


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/readyz",
    responses={
        503: {
            "description": "Database unreachable or not migrated",
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
    },
)
async def readyz(request: Request) -> Health:
    """The database answers and its schema is at the migrations' head."""
    heads: frozenset[str] = request.app.state.migration_heads
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with request.app.state.engine.connect() as connection:
                rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
                current = set(rows.scalars())
    except ProgrammingError:
        current = set()
    except Exception as exc:
        raise DatabaseUnavailable("The database cannot be reached.") from exc
    if current != heads:
        raise ServiceUnavailable(
            f"The database schema is at {sorted(current)}, not at {sorted(heads)}; "
            "run `helpdesk-api migrate`."
        )
    return Health(status="ok")

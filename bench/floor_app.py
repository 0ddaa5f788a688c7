"""The framework floor: a bare FastAPI app running the service's SQL with raw asyncpg.

Served exactly like the service (uvicorn, uvloop, httptools, the same --workers), it answers
the bench's requests (create, read, comment, status change, merge, lists and search) with the same
JSON. What the service costs beyond this is our design: SQLAlchemy's ORM, Pydantic models,
dependencies, middleware.
Run: DATABASE_URL=... uvicorn bench.floor_app:app --workers 2
"""

import hashlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response

from bench import floor_lists, floor_sql, floor_writes


def _token_hash(request: Request) -> bytes:
    _scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return hashlib.sha256(token.encode()).digest()


async def _keep(conn: asyncpg.Connection) -> None:
    """Give a connection back as it is: every request ends its transaction, and the service's
    pool sends nothing either (asyncpg's default reset is a round trip per request)."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The service's pool: 10 connections plus 10 overflow per worker.
    app.state.pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"],
        min_size=2,
        max_size=20,
        reset=_keep,
        server_settings={"application_name": "bench-floor", "timezone": "UTC"},
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


def _json(data: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return Response(
        json.dumps(data), status_code=status, media_type="application/json", headers=headers
    )


async def _answer(
    request: Request,
    handler: Callable[[asyncpg.Connection, bytes], Awaitable[dict[str, Any]]],
    status: int = 200,
    **headers: str,
) -> Response:
    async with app.state.pool.acquire() as conn:
        try:
            data = await handler(conn, _token_hash(request))
        except floor_sql.Unauthorized:
            return _json({"status": 401}, 401)
        except floor_sql.NotFound:
            return _json({"status": 404}, 404)
        except floor_sql.Invalid as exc:
            return _json({"status": 422, "detail": str(exc)}, 422)
    if "location" in headers:
        headers["location"] = headers["location"].format(**data)
    return _json(data, status, **headers)


@app.post("/v1/tickets")
async def create_ticket(request: Request) -> Response:
    body = await request.json()
    return await _answer(
        request,
        lambda conn, token: floor_writes.create_ticket(conn, token, body),
        201,
        location="/v1/tickets/{id}",
    )


@app.get("/v1/tickets")
async def list_tickets(request: Request) -> Response:
    query = dict(request.query_params)
    return await _answer(request, lambda conn, token: floor_lists.list_tickets(conn, token, query))


@app.get("/v1/tickets/{ticket_id}")
async def read_ticket(ticket_id: int, request: Request) -> Response:
    return await _answer(request, lambda conn, token: floor_sql.read_ticket(conn, token, ticket_id))


@app.patch("/v1/tickets/{ticket_id}")
async def update_ticket(ticket_id: int, request: Request) -> Response:
    body = await request.json()
    return await _answer(
        request, lambda conn, token: floor_writes.update_ticket(conn, token, ticket_id, body)
    )


@app.post("/v1/tickets/{ticket_id}/comments")
async def add_comment(ticket_id: int, request: Request) -> Response:
    body = await request.json()
    return await _answer(
        request,
        lambda conn, token: floor_writes.add_comment(conn, token, ticket_id, body),
        201,
    )


@app.post("/v1/tickets/{ticket_id}/merge")
async def merge_tickets(ticket_id: int, request: Request) -> Response:
    body = await request.json()
    return await _answer(
        request, lambda conn, token: floor_writes.merge_tickets(conn, token, ticket_id, body)
    )


@app.get("/healthz")
async def healthz() -> Response:
    return _json({"status": "ok"})

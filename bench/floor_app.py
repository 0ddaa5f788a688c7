"""The framework floor: a bare FastAPI app running the service's SQL with raw asyncpg.

Served exactly like the service (uvicorn, uvloop, httptools, the same --workers), it answers
POST /v1/tickets and GET /v1/tickets/{id} with the same JSON. What the service costs beyond
this is our design: SQLAlchemy's ORM, Pydantic models, dependencies, middleware.
Run: DATABASE_URL=... uvicorn bench.floor_app:app --workers 2
"""

import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response

from bench import floor_sql


def _token_hash(request: Request) -> bytes:
    _scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return hashlib.sha256(token.encode()).digest()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The service's pool: 10 connections plus 10 overflow per worker.
    app.state.pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"],
        min_size=2,
        max_size=20,
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


@app.post("/v1/tickets")
async def create_ticket(request: Request) -> Response:
    body = await request.json()
    async with app.state.pool.acquire() as conn:
        try:
            ticket = await floor_sql.create_ticket(conn, _token_hash(request), body)
        except floor_sql.Unauthorized:
            return _json({"status": 401}, 401)
        except floor_sql.NotFound:
            return _json({"status": 404}, 404)
    return _json(ticket, 201, location=f"/v1/tickets/{ticket['id']}")


@app.get("/v1/tickets/{ticket_id}")
async def read_ticket(ticket_id: int, request: Request) -> Response:
    async with app.state.pool.acquire() as conn:
        try:
            ticket = await floor_sql.read_ticket(conn, _token_hash(request), ticket_id)
        except floor_sql.Unauthorized:
            return _json({"status": 401}, 401)
        except floor_sql.NotFound:
            return _json({"status": 404}, 404)
    return _json(ticket)


@app.get("/healthz")
async def healthz() -> Response:
    return _json({"status": "ok"})

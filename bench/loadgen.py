"""The load generator: one process, asyncio on uvloop, N clients in a closed loop.

    python -m bench.loadgen < SPEC_JSON

SPEC (on stdin: the context is too big for an argument): {"scenario", "target"
("http://127.0.0.1:PORT" or "db:" + a PostgreSQL URL for the database floor), "concurrency",
"duration", "warmup", "context"}, optionally "warmup_requests" (per client, default 5) and
"min_requests" (the window lasts until that many requests finished, up to "max_seconds": for
slow probes). It prints "ready" once the warm-up is over (the parent starts its CPU counters
then), "stopped" when the window closes and, at the end, one JSON line.

A small client of our own rather than wrk or hey: each request needs scenario logic (a
requester e-mail, a ticket id, a status to move to, a filter value, a body of its own), and
the same request stream must drive the service, the framework floor and the database floor
(which has no HTTP at all). The HTTP side is a bare HTTP/1.1 keep-alive client on asyncio
streams, so the generator spends as little as possible of the CPU it shares with the server.
"""

import asyncio
import hashlib
import json
import random
import resource
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import asyncpg

from bench import floor_lists, floor_sql, floor_writes
from bench.words import WORDS

Request = tuple[str, str, dict[str, Any] | None]  # method, path with query, JSON body


def _words(rng: random.Random, lang: str, k: int) -> str:
    return " ".join(rng.choices(WORDS[lang], k=k)).capitalize()


def _create(rng: random.Random, ctx: dict[str, Any]) -> Request:
    lang = rng.choice(["en", "it", "ru", "hu", "ro"])
    body = {
        "subject": _words(rng, lang, 6),
        "comment": {"body": _words(rng, lang, 40)},
        "requester": {"email": rng.choice(ctx["emails"])},
        "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
        "tags": rng.sample(ctx["tags"], k=rng.randint(0, 2)),
    }
    return "POST", "/v1/tickets", body


def _comment(rng: random.Random, ctx: dict[str, Any]) -> Request:
    ticket = rng.choice(ctx["open_ids"])
    body = {"body": _words(rng, "en", 30), "public": rng.random() < 0.7}
    return "POST", f"/v1/tickets/{ticket}/comments", body


def _status(rng: random.Random, ctx: dict[str, Any]) -> Request:
    ticket = rng.choice(ctx["open_ids"])
    return "PATCH", f"/v1/tickets/{ticket}", {"status_id": rng.choice(ctx["working_status_ids"])}


def _read(rng: random.Random, ctx: dict[str, Any]) -> Request:
    return "GET", f"/v1/tickets/{rng.choice(ctx['read_ids'])}", None


def _list(name: str, values_key: str) -> Callable[[random.Random, dict[str, Any]], Request]:
    def make(rng: random.Random, ctx: dict[str, Any]) -> Request:
        query = {name: rng.choice(ctx[values_key]), "sort": "-updated_at"}
        return "GET", "/v1/tickets?" + urlencode(query), None

    return make


def _sla_breach(rng: random.Random, ctx: dict[str, Any]) -> Request:
    """The SLA queue: tickets with a running clock, the next deadline first."""
    return "GET", "/v1/tickets?sort=sla_breach_at", None


def _sla_breached(rng: random.Random, ctx: dict[str, Any]) -> Request:
    return "GET", "/v1/tickets?sla_status=breached&sort=-updated_at", None


def _merge(rng: random.Random, ctx: dict[str, Any]) -> Request:
    """A fresh one-comment ticket merged into an open one; each client has pairs of its own."""
    pair = next(ctx["merge_pairs"], None)
    if pair is None:
        raise RuntimeError("the merge pairs ran out: prepare more (bench/context.py)")
    target, source = pair
    return "POST", f"/v1/tickets/{target}/merge", {"source_ids": [source]}


def _peer_create(rng: random.Random, ctx: dict[str, Any]) -> Request:
    """django-helpdesk's POST /api/tickets/: the same content, in its shape."""
    lang = rng.choice(["en", "it", "ru", "hu", "ro"])
    body = {
        "queue": ctx["peer_queue"],
        "title": _words(rng, lang, 6),
        "description": _words(rng, lang, 40),
        "submitter_email": rng.choice(ctx["emails"]),
        "priority": rng.randint(1, 5),
    }
    return "POST", "/api/tickets/", body


def _peer_read(rng: random.Random, ctx: dict[str, Any]) -> Request:
    return "GET", f"/api/tickets/{rng.randint(ctx['peer_min_id'], ctx['peer_max_id'])}/", None


SCENARIOS: dict[str, Callable[[random.Random, dict[str, Any]], Request]] = {
    "peer_create_ticket": _peer_create,
    "peer_read_ticket": _peer_read,
    "create_ticket": _create,
    "add_comment": _comment,
    "update_status": _status,
    "read_ticket": _read,
    "list_status_category": _list("status_category", "categories"),
    "list_assignee": _list("assignee_id", "assignee_ids"),
    "list_group": _list("group_id", "group_ids"),
    "list_tag": _list("tag", "tags"),
    "search": _list("q", "search_words"),
    "list_sla_breach": _sla_breach,
    "list_sla_breached": _sla_breached,
    "merge_tickets": _merge,
}


def client_context(context: dict[str, Any], index: int, clients: int) -> dict[str, Any]:
    """What client ``index`` of ``clients`` picks from: shared values, plus its own slice of
    the ones no two clients may use (the merge pairs)."""
    ctx = dict(context)
    if "merge_pairs" in context:
        ctx["merge_pairs"] = iter(context["merge_pairs"][index::clients])
    return ctx


class HttpClient:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        # "Token <key>" for django-helpdesk (DRF), a bearer token for the service.
        scheme = "Token" if token.startswith("drf:") else "Bearer"
        token = token.removeprefix("drf:")
        self.head = f"Host: {host}:{port}\r\nAuthorization: {scheme} {token}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict[str, Any] | None) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = b"" if body is None else json.dumps(body).encode()
        extra = "Content-Type: application/json\r\n" if body is not None else ""
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\n{self.head}{extra}"
            f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding":
                raise RuntimeError("chunked responses are not supported by the bench client")
            elif name.lower() == b"connection" and value.strip().lower() == b"close":
                close = True
        await self.reader.readexactly(length)
        if close:
            # gunicorn's sync workers (the peer) answer one request per connection.
            self.writer.close()
            self.writer = None
        return status


async def _http_worker(
    spec: dict[str, Any],
    make: Callable[..., Request],
    rng: random.Random,
    out: list[Any],
    index: int = 0,
) -> None:
    target = urlsplit(spec["target"])
    client = HttpClient(target.hostname or "127.0.0.1", target.port or 80, spec["token"])
    ctx = client_context(spec["context"], index, spec["concurrency"])
    # uvicorn's workers share one listening socket and a worker accepts every connection
    # pending when it wakes: opened all at once, the 8 keep-alive connections all land on one
    # worker. Opened one by one, they spread over the workers (checked with `ss`).
    await asyncio.sleep(index * 0.05)
    while not out[0]:
        method, path, body = make(rng, ctx)
        started = time.perf_counter()
        status = await client.request(method, path, body)
        out[1].append((started, time.perf_counter() - started, status))


async def floor_call(
    conn: asyncpg.Connection, token_hash: bytes, method: str, path: str, body: Any
) -> int:
    """One request of the database floor: the framework floor's work, without HTTP."""
    route, _, query = path.partition("?")
    parts = route.strip("/").split("/")  # v1, tickets, [id, [comments]]
    try:
        if method == "POST" and len(parts) == 2:
            await floor_writes.create_ticket(conn, token_hash, body)
            return 201
        if method == "GET" and len(parts) == 2:
            await floor_lists.list_tickets(conn, token_hash, dict(parse_qsl(query)))
        elif method == "GET" and len(parts) == 3:
            await floor_sql.read_ticket(conn, token_hash, int(parts[2]))
        elif method == "PATCH" and len(parts) == 3:
            await floor_writes.update_ticket(conn, token_hash, int(parts[2]), body)
        elif method == "POST" and parts[3:] == ["comments"]:
            await floor_writes.add_comment(conn, token_hash, int(parts[2]), body)
            return 201
        elif method == "POST" and parts[3:] == ["merge"]:
            await floor_writes.merge_tickets(conn, token_hash, int(parts[2]), body)
        else:
            raise RuntimeError(f"no database floor for {method} {path}")
    except floor_sql.NotFound:
        return 404
    except floor_sql.Invalid:
        return 422
    return 200


async def _db_worker(
    spec: dict[str, Any],
    make: Callable[..., Request],
    rng: random.Random,
    out: list[Any],
    pool: asyncpg.Pool,
    index: int,
) -> None:
    token_hash = hashlib.sha256(spec["token"].encode()).digest()
    ctx = client_context(spec["context"], index, spec["concurrency"])
    async with pool.acquire() as conn:
        while not out[0]:
            method, path, body = make(rng, ctx)
            started = time.perf_counter()
            status = await floor_call(conn, token_hash, method, path, body)
            out[1].append((started, time.perf_counter() - started, status))


def _percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    make = SCENARIOS[spec["scenario"]]
    out: list[Any] = [False, []]
    pool = None
    if spec["target"].startswith("db:"):
        pool = await asyncpg.create_pool(
            spec["target"][3:],
            min_size=spec["concurrency"],
            max_size=spec["concurrency"],
            server_settings={"application_name": "bench-db-floor", "timezone": "UTC"},
        )
    rngs = [random.Random(spec.get("seed", 1) * 1000 + i) for i in range(spec["concurrency"])]
    workers = [
        asyncio.create_task(
            _db_worker(spec, make, r, out, pool, i) if pool else _http_worker(spec, make, r, out, i)
        )
        for i, r in enumerate(rngs)
    ]
    await asyncio.sleep(spec["warmup"])
    # A fresh server's first requests are slow (imports, statement caches, pool connects):
    # the warm-up also lasts until every client has finished a few requests.
    warm = spec.get("warmup_requests", 5) * spec["concurrency"]
    deadline = time.monotonic() + 60
    while len(out[1]) < warm and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    print("ready", flush=True)
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    await asyncio.sleep(spec["duration"])
    # A slow probe runs on until it has its few requests.
    wanted = spec.get("min_requests", 0)
    limit = t0 + spec.get("max_seconds", spec["duration"])
    while (  # noqa: ASYNC110
        sum(1 for start, _, _ in out[1] if start >= t0) < wanted and time.perf_counter() < limit
    ):
        await asyncio.sleep(0.05)
    out[0] = True
    t1 = time.perf_counter()
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    # Before any connection closes: the parent takes its closing CPU counters now.
    print("stopped", flush=True)
    done, _pending = await asyncio.wait(workers, timeout=30)
    for task in done:
        failure = task.exception()
        if failure is not None:
            raise failure
    if pool is not None:
        await pool.close()
    window = [(lat, status) for start, lat, status in out[1] if t0 <= start and start + lat <= t1]
    latencies = sorted(lat for lat, _ in window)
    errors = sum(1 for _, status in window if status >= 400)
    statuses: dict[str, int] = {}
    for _, status in window:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    elapsed = t1 - t0
    return {
        "requests": len(window),
        "errors": errors,
        "statuses": statuses,
        "seconds": round(elapsed, 3),
        "rps": round(len(window) / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 50) * 1000, 2),
        "p95_ms": round(_percentile(latencies, 95) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "loadgen_cpu_s": round(
            (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime), 3
        ),
    }


def main() -> None:
    spec = json.loads(sys.stdin.read())
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    result = asyncio.run(run(spec))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

"""Reads at a fixed series of table sizes, ours and django-helpdesk's: one client reading
random tickets, so each figure is the cost of one read at that size, with no queueing.

Ours reads from a dataset of each size (loaded once by bench.generate, then reused) with a
fresh service, and from the main dataset with the running one; django-helpdesk's table is
filled to each size in turn (bench/peer/fill.py).
"""

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import psutil

from bench.context import sample_ids
from bench.generate import ensure_dataset
from bench.measure import Ports, run_load, serve, stop_process, tree
from bench.pg import ADMIN_TOKEN, BenchPostgres

FULL = (100, 1_000, 10_000)
QUICK = (100, 1_000)
# Enough reads for a median even where one read takes seconds (django-helpdesk at 10,000).
MIN_READS = 3
MAX_SECONDS = 60.0


def probe_spec(
    scenario: str, target: str, token: str, context: dict[str, Any], duration: float
) -> dict[str, Any]:
    return {
        "scenario": scenario, "target": target, "token": token, "concurrency": 1,
        "duration": duration, "warmup": 0.0, "warmup_requests": 1, "min_requests": MIN_READS,
        "max_seconds": MAX_SECONDS, "context": context,
    }  # fmt: skip


def row(tickets: int, result: dict[str, Any], cpu_key: str) -> dict[str, Any]:
    cpu = result["cpu_ms_per_request"]
    return {
        "tickets": tickets,
        "requests": result["requests"],
        "errors": result["errors"],
        "rps": result["rps"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "cpu_ms_per_read": {"server": cpu.get(cpu_key), "postgres": cpu.get("postgres")},
    }


def ours(
    pg: BenchPostgres,
    server_url: str,
    sizes: tuple[int, ...],
    *,
    ports: Ports,
    workers: int,
    duration: float,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    """read_ticket at each size, one fresh service per dataset (the main service stopped)."""
    rows = []
    for size in sizes:
        url = ensure_dataset(server_url, size, log)
        context = {"read_ids": asyncio.run(_sample(url))}
        service = serve(url, ports.service, workers)
        try:
            watched = {"api": tree(service.pid), "postgres": tree(pg.postmaster_pid())}
            spec = probe_spec(
                "read_ticket", f"http://127.0.0.1:{ports.service}", ADMIN_TOKEN, context, duration
            )
            result = run_load(spec, watched, url)
        finally:
            stop_process(service)
        rows.append(row(size, result, "api"))
        log(f"read_ticket at {size:>9,} tickets: p50 {result['p50_ms']} ms ({result['rps']}/s)")
    return rows


async def _sample(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        return await sample_ids(conn)
    finally:
        await conn.close()


def main_size(
    pg: BenchPostgres,
    url: str,
    tickets: int,
    context: dict[str, Any],
    *,
    service: psutil.Process,
    port: int,
    duration: float,
) -> dict[str, Any]:
    """The same probe on the main dataset, with the service already running."""
    watched = {"api": tree(service.pid), "postgres": tree(pg.postmaster_pid())}
    spec = probe_spec("read_ticket", f"http://127.0.0.1:{port}", ADMIN_TOKEN, context, duration)
    return row(tickets, run_load(spec, watched, url), "api")

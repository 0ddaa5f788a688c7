"""Webhook delivery benchmark: deliveries per second per worker, and event-to-delivery latency.

    python -m bench.webhooks [--events 2000] [--workers 1] [--rate 50]

`bench.run` calls `measure` on its own PostgreSQL (the `webhook_deliveries` scenario); run
alone, this module starts the bench's PostgreSQL and writes results/<timestamp>-webhooks.json.

Two phases against one real `helpdesk-api worker` process (or several) and a local receiver:
- throughput: N events already in the log, one subscribed endpoint; the time from worker
  start to the last delivery gives deliveries/s (per worker);
- latency: events written at a steady rate while the worker runs; each delivery's arrival
  minus its event's commit time (both on this machine's clock) gives p50/p99.
The receiver is a bare asyncio HTTP server in this process, so it costs the worker nothing.
"""

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from bench.pg import BenchPostgres, migrate_and_seed, recreate_database, service_env

RESULTS = Path(__file__).resolve().parent / "results"


class Receiver(asyncio.Protocol):
    arrivals: dict[int, float] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, rest = self.buffer.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) < length:
                return
            body, self.buffer = rest[:length], rest[length:]
            event_id = json.loads(body)["data"]["event_id"]
            Receiver.arrivals.setdefault(event_id, time.time())
            self.transport.write(  # type: ignore[attr-defined]
                b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
            )


async def _insert_events(url: str, count: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO events (type, data) SELECT 'bench.event', '{}'::jsonb "
            "FROM generate_series(1, $1)",
            count,
        )
    finally:
        await conn.close()


def _workers(url: str, n: int) -> list[subprocess.Popen[bytes]]:
    env = service_env(url) | {"HELPDESK_WEBHOOK_ALLOW_PRIVATE": "1"}
    return [
        subprocess.Popen(
            [sys.executable, "-m", "helpdesk_api", "worker"], env=env, stderr=subprocess.DEVNULL
        )
        for _ in range(n)
    ]


def _stop(workers: list[subprocess.Popen[bytes]]) -> float:
    cpu = 0.0
    for worker in workers:
        if worker.poll() is None:
            times = psutil.Process(worker.pid).cpu_times()
            cpu += times.user + times.system
            worker.terminate()
        worker.wait(20)
    return cpu


async def _wait_for(count: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / 0.05)):
        if len(Receiver.arrivals) >= count or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.05)


async def measure(
    server_url: str, *, events: int, workers: int, rate: float, duration: float
) -> dict[str, Any]:
    """Both phases on a fresh database `bench_webhooks` of the server at ``server_url``."""
    Receiver.arrivals = {}
    url = await recreate_database(server_url, "bench_webhooks")
    await migrate_and_seed(url)
    server = await asyncio.get_running_loop().create_server(Receiver, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn = await asyncpg.connect(url)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        await conn.execute(
            "INSERT INTO webhooks (url, events, secret) VALUES ($1, '{*}', $2)",
            f"http://127.0.0.1:{port}/hook",
            "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=",
        )

        # Throughput: a backlog of events, drained by the workers.
        await _insert_events(url, events)
        started = time.monotonic()
        procs = _workers(url, workers)
        await _wait_for(events, 300)
        elapsed = time.monotonic() - started
        delivered = len(Receiver.arrivals)

        # Latency: events at a steady rate while the same workers run.
        Receiver.arrivals.clear()
        committed: dict[int, float] = {}
        end = time.monotonic() + duration
        while time.monotonic() < end:
            event_id = await conn.fetchval(
                "INSERT INTO events (type, data) VALUES ('bench.live', '{}'::jsonb) RETURNING id"
            )
            committed[event_id] = time.time()
            await asyncio.sleep(1 / rate)
        await _wait_for(len(committed), 60)
        worker_cpu = _stop(procs)
        procs = []
        latencies = sorted(
            (Receiver.arrivals[i] - t) * 1000
            for i, t in committed.items()
            if i in Receiver.arrivals
        )
    finally:
        _stop(procs)
        await conn.close()
        server.close()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "workers": workers,
        "backlog_events": events,
        "delivered": delivered,
        "deliveries_per_second": round(delivered / elapsed, 1),
        "deliveries_per_second_per_worker": round(delivered / elapsed / workers, 1),
        "latency_events": len(committed),
        "latency_delivered": len(latencies),
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 1)
        if latencies
        else None,
        "worker_cpu_seconds": round(worker_cpu, 2),
        "worker_cpu_ms_per_delivery": round(
            worker_cpu / max(delivered + len(latencies), 1) * 1000, 2
        ),
    }


async def main(events: int, workers: int, rate: float, duration: float) -> dict[str, Any]:
    postgres = BenchPostgres()
    server_url = postgres.start()
    try:
        result = await measure(
            server_url, events=events, workers=workers, rate=rate, duration=duration
        )
    finally:
        postgres.stop()
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    (RESULTS / f"{stamp}-webhooks.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rate", type=float, default=50.0, help="events/s in the latency phase")
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    outcome = asyncio.run(main(args.events, args.workers, args.rate, args.duration))
    print(json.dumps(outcome, indent=2))

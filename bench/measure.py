"""Measuring one window: the load generator's process, the CPU of every process group around
it, what the database's backends wait on, how the connections fell on the server's workers."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import psutil

from bench.pg import BENCH_DIR, service_env

BIN = Path(sys.executable).parent


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _cpu(processes: list[psutil.Process]) -> dict[int, float]:
    seen: dict[int, float] = {}
    for process in processes:
        try:
            times = process.cpu_times()
            seen[process.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return seen


def _delta(before: dict[int, float], after: dict[int, float]) -> float:
    return round(sum(v - before.get(pid, 0.0) for pid, v in after.items()), 3)


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode} before it served")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Ports:
    """The service's port (--port) and the next two: the framework floor, django-helpdesk."""

    service: int

    @property
    def floor(self) -> int:
        return self.service + 1

    @property
    def peer(self) -> int:
        return self.service + 2


def serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """`helpdesk-api serve` as deployed (uvicorn, uvloop, httptools), once it answers."""
    service = subprocess.Popen(
        [str(BIN / "helpdesk-api"), "serve", "--port", str(port), "--workers", str(workers)],
        env=service_env(url),
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", service)
    except BaseException:
        stop_process(service)
        raise
    return service


class Servers:
    """The service and the framework floor, side by side on the same dataset."""

    def __init__(self, url: str, workers: int, ports: Ports) -> None:
        self.floor = subprocess.Popen(
            [str(BIN / "python"), "-m", "uvicorn", "bench.floor_app:app",
             "--port", str(ports.floor), "--workers", str(workers), "--loop", "uvloop",
             "--http", "httptools", "--no-access-log", "--log-level", "warning"],
            env=service_env(url),
            cwd=BENCH_DIR.parent,
        )  # fmt: skip
        try:
            self.service = serve(url, ports.service, workers)
            wait_http(f"http://127.0.0.1:{ports.floor}/healthz", self.floor)
        except BaseException:
            stop_process(self.floor)
            raise

    def stop(self) -> None:
        stop_process(self.service)
        stop_process(self.floor)


class WaitSampler(threading.Thread):
    """Samples pg_stat_activity every 50 ms: what the database's active backends wait on
    (CPU when nothing, Lock for row locks, IO, LWLock, or Client when idle in a transaction
    waiting for the application)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.counts: dict[str, int] = {}
        self.samples = 0

    def run(self) -> None:
        asyncio.run(self._sample())

    async def _sample(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            while not self.stop.is_set():
                rows = await conn.fetch(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
                    "AND datname = current_database() AND state <> 'idle'"
                )
                self.samples += 1
                for row in rows:
                    if row["state"] == "idle in transaction":
                        key = "idle in transaction (waiting for the app)"
                    elif row["wait_event_type"] is None:
                        key = "on CPU"
                    else:
                        key = f"{row['wait_event_type']}:{row['wait_event']}"
                    self.counts[key] = self.counts.get(key, 0) + 1
                await asyncio.sleep(0.05)
        finally:
            await conn.close()

    def summary(self) -> dict[str, float]:
        """Average number of backends in each state over the window."""
        n = max(self.samples, 1)
        return {k: round(v / n, 2) for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1])}


def _connections_by_process(target: str) -> list[int]:
    if target.startswith("db:"):
        return []
    port = urlsplit(target).port
    counts: dict[int, int] = {}
    for conn in psutil.net_connections(kind="tcp"):
        established = conn.status == psutil.CONN_ESTABLISHED and conn.pid is not None
        if established and conn.laddr and conn.laddr.port == port:
            counts[conn.pid] = counts.get(conn.pid, 0) + 1
    return sorted(counts.values(), reverse=True)


def run_load(
    spec: dict[str, Any], watched: dict[str, list[psutil.Process]], db_url: str
) -> dict[str, Any]:
    """One scenario: a load generator process, CPU of everything watched over its window."""
    generator = start_loadgen(spec)
    assert generator.stdout is not None
    try:
        line = generator.stdout.readline().decode().strip()
        if line != "ready":
            raise RuntimeError(f"load generator failed before its window: {line!r}")
        # Pools connect during the warm-up: take the process trees now, not before.
        watched = {name: tree(procs[0].pid) for name, procs in watched.items()}
        sampler = WaitSampler(db_url)
        sampler.start()
        load_before = os.getloadavg()[0]
        before = {name: _cpu(procs) for name, procs in watched.items()}
        machine_before = psutil.cpu_times()
        spread = _connections_by_process(spec["target"])
        line = generator.stdout.readline().decode().strip()
        # Again: processes born inside the window count from zero.
        after = {name: _cpu(tree(procs[0].pid)) for name, procs in watched.items()}
        machine_after = psutil.cpu_times()
        sampler.stop.set()
        sampler.join(timeout=5)
        if line != "stopped":
            raise RuntimeError(f"load generator failed in its window: {line!r}")
        line = generator.stdout.readline().decode().strip()
        if generator.wait(timeout=60) != 0 or not line:
            raise RuntimeError(f"load generator failed: {line!r}")
    finally:
        stop_process(generator)
    result: dict[str, Any] = json.loads(line)
    idle = machine_after.idle - machine_before.idle
    busy = sum(machine_after) - sum(machine_before) - idle
    result["cpu_s"] = {name: _delta(before[name], after[name]) for name in watched}
    result["cpu_s"]["loadgen"] = result.pop("loadgen_cpu_s")
    result["machine_busy_pct"] = round(100 * busy / max(busy + idle, 1e-9), 1)
    # CPU the machine spent outside everything watched: other tenants of a shared machine.
    result["cpu_s"]["other"] = round(busy - sum(result["cpu_s"].values()), 3)
    result["loadavg_1m_before"] = round(load_before, 2)
    result["db_backends_by_wait"] = sampler.summary()
    # How the load generator's keep-alive connections fell on the server's worker processes
    # (a worker takes every connection pending when it wakes, so they need not be even).
    result["server_connections_per_worker"] = spread
    requests = max(result["requests"], 1)
    result["cpu_ms_per_request"] = {
        name: round(seconds / requests * 1000, 3) for name, seconds in result["cpu_s"].items()
    }
    return result


def start_loadgen(spec: dict[str, Any]) -> subprocess.Popen[bytes]:
    """bench.loadgen in its own process, its spec on stdin (the context is too big for argv)."""
    generator = subprocess.Popen(
        [str(BIN / "python"), "-m", "bench.loadgen"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=BENCH_DIR.parent,
    )
    assert generator.stdin is not None
    generator.stdin.write(json.dumps(spec).encode())
    generator.stdin.close()
    return generator

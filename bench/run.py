"""Run the benchmark: `python -m bench.run [--quick] [--workers 2] [--concurrency 8] ...`.

Starts its own PostgreSQL in bench/.data, loads --scale tickets (reused between runs), serves
the API as production does (`helpdesk-api serve`: uvicorn, uvloop, httptools), serves the
framework floor (bench/floor_app.py) the same way, drives each scenario from a separate load
generator process (bench/loadgen.py) at fixed concurrency, and writes
bench/results/<timestamp>.json and .md, with EXPLAIN plans and the create-path profile beside.
"""

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import psutil

from bench import explain, pyspy
from bench.generate import dataset_scale, generate
from bench.pg import (
    ADMIN_TOKEN,
    BENCH_DIR,
    DATA_DIR,
    BenchPostgres,
    database_exists,
    migrate_and_seed,
    recreate_database,
    service_env,
    with_database,
)

RESULTS = BENCH_DIR / "results"
BIN = Path(sys.executable).parent
SERVICE_PORT = 18601
FLOOR_PORT = 18602
PEER_PORT = 18603
# The scenarios with a floor; the others report null ratios until floors exist for them.
FLOORED = ("create_ticket", "read_ticket")
SCENARIOS = (
    "create_ticket",
    "add_comment",
    "update_status",
    "read_ticket",
    "list_status_category",
    "list_assignee",
    "list_group",
    "list_tag",
    "search",
)
# Common and rare words in the five languages of the data, and a two-word query.
SEARCH_WORDS = [
    "printer", "refund", "stampante", "rimborso", "принтер", "пароль",
    "nyomtató", "jelszó", "imprimantă", "factură", "vpn timeout", "licenza",
]  # fmt: skip
TODO = {
    "create_ticket_with_sla": "SLAs landed while this bench was written: create_ticket runs the "
    "SLA hook (its lookups are in both floors) but the dataset has no active policy, so no "
    "metric is written; add policies to generate.py to measure the full path, and an "
    "SLA-deadline list query with its EXPLAIN.",
    "merge_tickets": "merging landed while this bench was written (POST /v1/tickets/{id}/merge): "
    "no merge scenario yet.",
    "webhook_deliveries": "not in bench.run: bench/webhooks.py (from the webhooks work) "
    "measures deliveries/s per worker and event-to-delivery latency on its own.",
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


async def build_context(url: str) -> dict[str, Any]:
    """Values the scenarios pick from, read from the loaded data."""
    conn = await asyncpg.connect(url)
    try:
        emails = [
            r["value"]
            for r in await conn.fetch(
                "SELECT value FROM user_identities WHERE value LIKE 'customer%' "
                "ORDER BY random() LIMIT 1000"
            )
        ]
        open_ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM tickets WHERE status_category IN ('new','open','pending',"
                "'on_hold') ORDER BY random() LIMIT 5000"
            )
        ]
        working = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM ticket_statuses WHERE category IN ('open','pending','on_hold') "
                "AND is_active"
            )
        ]
        bounds = await conn.fetchrow("SELECT min(id) AS lo, max(id) AS hi FROM tickets")
        agents = [
            r["id"] for r in await conn.fetch("SELECT id FROM users WHERE role = 'agent' LIMIT 50")
        ]
        groups = [r["id"] for r in await conn.fetch("SELECT id FROM groups")]
        tags = [
            r["tag"]
            for r in await conn.fetch(
                "SELECT tag FROM tag_counts WHERE ticket_count > 0 "
                "ORDER BY ticket_count DESC LIMIT 30"
            )
        ]
    finally:
        await conn.close()
    return {
        "emails": emails,
        "open_ids": open_ids,
        "working_status_ids": working,
        "min_id": bounds["lo"],
        "max_id": bounds["hi"],
        "categories": ["new", "open", "pending", "solved"],
        "assignee_ids": [str(a) for a in agents] + ["none"],
        "group_ids": groups,
        "tags": tags,
        "search_words": SEARCH_WORDS,
    }


def _tree(pid: int) -> list[psutil.Process]:
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


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
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


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Servers:
    def __init__(self, url: str, workers: int) -> None:
        env = service_env(url)
        self.service = subprocess.Popen(
            [str(BIN / "helpdesk-api"), "serve", "--port", str(SERVICE_PORT),
             "--workers", str(workers)],
            env=env,
        )  # fmt: skip
        self.floor = subprocess.Popen(
            [str(BIN / "python"), "-m", "uvicorn", "bench.floor_app:app",
             "--port", str(FLOOR_PORT), "--workers", str(workers), "--loop", "uvloop",
             "--http", "httptools", "--no-access-log", "--log-level", "warning"],
            env=env,
            cwd=BENCH_DIR.parent,
        )  # fmt: skip
        try:
            _wait_http(f"http://127.0.0.1:{SERVICE_PORT}/healthz", self.service)
            _wait_http(f"http://127.0.0.1:{FLOOR_PORT}/healthz", self.floor)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        _stop(self.service)
        _stop(self.floor)


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
    generator = subprocess.Popen(
        [str(BIN / "python"), "-m", "bench.loadgen", json.dumps(spec)],
        stdout=subprocess.PIPE,
        cwd=BENCH_DIR.parent,
    )
    assert generator.stdout is not None
    try:
        line = generator.stdout.readline().decode().strip()
        if line != "ready":
            raise RuntimeError(f"load generator failed before its window: {line!r}")
        # Pools connect during the warm-up: take the process trees now, not before.
        watched = {name: _tree(procs[0].pid) for name, procs in watched.items()}
        sampler = WaitSampler(db_url)
        sampler.start()
        load_before = os.getloadavg()[0]
        before = {name: _cpu(procs) for name, procs in watched.items()}
        machine_before = psutil.cpu_times()
        spread = _connections_by_process(spec["target"])
        line = generator.stdout.readline().decode().strip()
        # Again: processes born inside the window count from zero.
        after = {name: _cpu(_tree(procs[0].pid)) for name, procs in watched.items()}
        machine_after = psutil.cpu_times()
        sampler.stop.set()
        sampler.join(timeout=5)
        if line != "stopped":
            raise RuntimeError(f"load generator failed in its window: {line!r}")
        line = generator.stdout.readline().decode().strip()
        if generator.wait(timeout=60) != 0 or not line:
            raise RuntimeError(f"load generator failed: {line!r}")
    finally:
        _stop(generator)
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


def run_peer(
    pg: BenchPostgres,
    server_url: str,
    args: argparse.Namespace,
    context: dict[str, Any],
    watched: dict[str, list[psutil.Process]],
    load: Any,
) -> dict[str, Any]:
    """django-helpdesk on the same machine and PostgreSQL: create, then read what it created."""
    from bench.peer.runner import PEER_DB, Peer

    log("starting django-helpdesk (gunicorn) on the same PostgreSQL")
    peer = Peer(server_url, pg.embedded.pgdata, PEER_PORT, args.workers, args.data_dir)
    peer_url = with_database(server_url, PEER_DB)
    target = f"http://127.0.0.1:{PEER_PORT}"
    out: dict[str, Any] = {}
    try:
        watched["peer"] = _tree(peer.process.pid)
        context["peer_queue"] = peer.queue
        token = "drf:" + peer.token
        out["peer_create_ticket"] = load("peer_create_ticket", target, token, peer_url)
        bounds, count = asyncio.run(_peer_bounds(peer_url))
        context["peer_min_id"], context["peer_max_id"] = bounds
        read = load("peer_read_ticket", target, token, peer_url)
        read["peer_tickets_in_table"] = count
        out["peer_read_ticket"] = read
    finally:
        peer.stop()
        watched.pop("peer", None)
    for result in out.values():
        result["ratio_framework_floor"] = result["ratio_database_floor"] = None
        result["framework_floor"] = result["database_floor"] = None
        result["ours_over_peer"] = None
    return out


async def _peer_bounds(url: str) -> tuple[tuple[int, int], int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow("SELECT min(id) lo, max(id) hi, count(*) n FROM helpdesk_ticket")
        return (int(row["lo"]), int(row["hi"])), int(row["n"])
    finally:
        await conn.close()


def profile_under_load(
    servers: "Servers",
    context: dict[str, Any],
    args: argparse.Namespace,
    duration: float,
    warmup: float,
    prefix: Path,
) -> dict[str, Any]:
    """An extra create_ticket window with py-spy attached to every uvicorn worker; its
    figures are not in the table (the sampler takes CPU of its own)."""
    spec = {
        "scenario": "create_ticket", "target": f"http://127.0.0.1:{SERVICE_PORT}",
        "token": ADMIN_TOKEN, "concurrency": args.concurrency, "duration": duration + 1,
        "warmup": warmup, "context": context,
    }  # fmt: skip
    generator = subprocess.Popen(
        [str(BIN / "python"), "-m", "bench.loadgen", json.dumps(spec)],
        stdout=subprocess.PIPE,
        cwd=BENCH_DIR.parent,
    )
    assert generator.stdout is not None
    raw = prefix.with_suffix(".raw.txt")
    try:
        if generator.stdout.readline().decode().strip() != "ready":
            raise RuntimeError("load generator failed before the py-spy window")
        sampler = pyspy.record(servers.service.pid, duration, raw)
        sampler.wait(timeout=duration + 60)
        generator.stdout.read()
        generator.wait(timeout=60)
    finally:
        _stop(generator)
    summary = pyspy.summarize(raw)
    summary["raw"] = str(raw.relative_to(BENCH_DIR.parent))
    return summary


def _markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"# Bench {report['started_at']} ({'quick' if report['quick'] else 'full'})",
        "",
        f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"PostgreSQL {m['postgres']}; {report['dataset']['tickets']:,} tickets, "
        f"{report['dataset']['comments']:,} comments; workers={report['workers']}, "
        f"concurrency={report['concurrency']}, {report['duration']} s per scenario.",
        "",
        "| scenario | rps | p50 ms | p99 ms | errors | framework floor rps | ratio | "
        "database floor rps | ratio | CPU ms/req api / pg / loadgen | connections per worker |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, s in report["scenarios"].items():
        if name.startswith("peer_"):
            continue
        ff = s.get("framework_floor") or {}
        df = s.get("database_floor") or {}
        cpu = s["cpu_ms_per_request"]

        def fmt(value: Any) -> str:
            return "–" if value is None else f"{value}"

        lines.append(
            f"| {name} | {s['rps']} | {s['p50_ms']} | {s['p99_ms']} | {s['errors']} | "
            f"{fmt(ff.get('rps'))} | {fmt(s['ratio_framework_floor'])} | "
            f"{fmt(df.get('rps'))} | {fmt(s['ratio_database_floor'])} | "
            f"{cpu['api']} / {cpu['postgres']} / {cpu['loadgen']} | "
            f"{'+'.join(map(str, s.get('server_connections_per_worker', [])))} |"
        )
    peers = {n: s for n, s in report["scenarios"].items() if n.startswith("peer_")}
    if peers:
        lines += [
            "",
            "django-helpdesk (gunicorn, same workers, DRF token auth, same PostgreSQL):",
            "",
            "| scenario | rps | p50 ms | p99 ms | errors | tickets in its table | ours ÷ peer |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {n} | {p['rps']} | {p['p50_ms']} | {p['p99_ms']} | {p['errors']} | "
            f"{p.get('peer_tickets_in_table', '–')} | {p['ours_over_peer']} |"
            for n, p in peers.items()
        ]
    lines += ["", "Not measured yet:", ""]
    lines += [f"- {name}: {why}" for name, why in report["todo"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    global SERVICE_PORT, FLOOR_PORT, PEER_PORT  # set once from --port: one run per process
    parser = argparse.ArgumentParser(description="helpdesk-api benchmark")
    parser.add_argument("--quick", action="store_true", help="tiny scale, short windows")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=float, help="seconds of load before each window")
    parser.add_argument("--scale", type=int, help="tickets in the dataset")
    parser.add_argument("--regenerate", action="store_true", help="reload the dataset")
    parser.add_argument("--scenarios", help="comma-separated subset")
    parser.add_argument("--profile-creates", type=int, help="creates under the profiler")
    parser.add_argument("--no-pyspy", action="store_true", help="skip the py-spy pass")
    parser.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN pass")
    parser.add_argument("--no-peer", action="store_true", help="skip django-helpdesk")
    parser.add_argument(
        "--port",
        type=int,
        default=SERVICE_PORT,
        help="the service's; the floor and django-helpdesk take the next two",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help="where the bench's PostgreSQL lives"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    SERVICE_PORT, FLOOR_PORT, PEER_PORT = args.port, args.port + 1, args.port + 2
    scale = args.scale or (2_000 if args.quick else 1_000_000)
    duration = args.duration or (3.0 if args.quick else 15.0)
    warmup = args.warmup if args.warmup is not None else (2.0 if args.quick else 5.0)
    profile_creates = args.profile_creates if args.profile_creates is not None else (
        200 if args.quick else 1000
    )  # fmt: skip
    scenarios = args.scenarios.split(",") if args.scenarios else list(SCENARIOS)
    started_at = datetime.now(UTC)
    stamp = started_at.strftime("%Y-%m-%dT%H%M%SZ") + ("-quick" if args.quick else "")
    args.output.mkdir(parents=True, exist_ok=True)

    pg = BenchPostgres(args.data_dir)
    server_url = pg.start()
    servers: Servers | None = None
    try:
        name = f"helpdesk_bench_{scale}"
        url = with_database(server_url, name)
        reuse = (
            not args.regenerate
            and asyncio.run(database_exists(server_url, name))
            and asyncio.run(dataset_scale(url)) == scale
        )
        if reuse:
            log(f"reusing the loaded dataset {name}")
            asyncio.run(migrate_and_seed(url))
        else:
            log(f"loading {scale:,} tickets into {name}")
            asyncio.run(recreate_database(server_url, name))
            asyncio.run(migrate_and_seed(url))
            loaded = asyncio.run(generate(url, scale, log=log))
            log(f"loaded: {loaded}")
        dataset = asyncio.run(_dataset(url))
        context = asyncio.run(build_context(url))
        log("starting the service and the framework floor")
        servers = Servers(url, args.workers)
        watched = {
            "api": _tree(servers.service.pid),
            "floor_app": _tree(servers.floor.pid),
            "postgres": _tree(pg.postmaster_pid()),
        }
        results: dict[str, Any] = {}

        def load(
            scenario: str, target: str, token: str = ADMIN_TOKEN, db_url: str = url
        ) -> dict[str, Any]:
            spec = {
                "scenario": scenario, "target": target, "token": token,
                "concurrency": args.concurrency, "duration": duration, "warmup": warmup,
                "context": context,
            }  # fmt: skip
            result = run_load(spec, watched, db_url)
            log(
                f"{scenario:<22} {target.split('?')[0][:28]:<28} {result['rps']:>8} rps "
                f"p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms errors {result['errors']}"
            )
            return result

        for scenario in scenarios:
            result = load(scenario, f"http://127.0.0.1:{SERVICE_PORT}")
            result["framework_floor"] = result["database_floor"] = None
            result["ratio_framework_floor"] = result["ratio_database_floor"] = None
            if scenario in FLOORED:
                ff = load(scenario, f"http://127.0.0.1:{FLOOR_PORT}")
                df = load(scenario, "db:" + url)
                result["framework_floor"], result["database_floor"] = ff, df
                result["ratio_framework_floor"] = round(result["rps"] / ff["rps"], 3)
                result["ratio_database_floor"] = round(result["rps"] / df["rps"], 3)
            results[scenario] = result
        if not args.no_peer:
            peer_results = run_peer(pg, server_url, args, context, watched, load)
            for name, result in peer_results.items():
                ours = results.get(name.removeprefix("peer_"))
                if ours:
                    result["ours_over_peer"] = round(ours["rps"] / result["rps"], 2)
            results.update(peer_results)
        sampled: dict[str, Any] | None = None
        if pyspy.available() and not args.no_pyspy:
            sampled = profile_under_load(
                servers, context, args, duration, warmup, args.output / f"{stamp}-pyspy-create"
            )
            log(f"py-spy on the service under create load: {sampled['inclusive_cpu_pct_by_step']}")
        servers.stop()
        servers = None

        explained: dict[str, Any] = {}
        if not args.no_explain:
            explained = explain.capture(
                pg, url, args.output / f"{stamp}-explain", context, SERVICE_PORT
            )
            log(f"EXPLAIN (ANALYZE, BUFFERS) of {len(explained)} list queries saved")
        profile: dict[str, Any] | None = None
        if profile_creates:
            context_file = args.output / f"{stamp}-context.json.tmp"
            context_file.write_text(json.dumps(context))
            out = subprocess.run(
                [str(BIN / "python"), "-m", "bench.profile_create", url,
                 str(args.output / f"{stamp}-profile-create"), str(profile_creates),
                 str(context_file)],
                cwd=BENCH_DIR.parent, capture_output=True, text=True, check=True,
            )  # fmt: skip
            context_file.unlink()
            profile = json.loads(out.stdout.strip().splitlines()[-1])
            log(f"create-path profile: {profile}")
    finally:
        if servers is not None:
            servers.stop()
        postgres_version = pg.psql("SHOW server_version;").splitlines()[2].strip()
        pg.stop()

    report = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "quick": args.quick,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "duration": duration,
        "warmup": warmup,
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "postgres": postgres_version,
            "platform": platform.platform(),
        },
        "dataset": dataset,
        "scenarios": results,
        "explain": explained,
        "profile_create_pyinstrument": profile,
        "profile_create_pyspy": sampled,
        "todo": TODO,
    }
    (args.output / f"{stamp}.json").write_text(json.dumps(report, indent=2) + "\n")
    table = _markdown(report)
    (args.output / f"{stamp}.md").write_text(table)
    print(table)
    log(f"wrote {args.output / stamp}.json and .md")


async def _dataset(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {
            "tickets": int(await conn.fetchval("SELECT count(*) FROM tickets")),
            "comments": int(await conn.fetchval("SELECT count(*) FROM ticket_comments")),
            "users": int(await conn.fetchval("SELECT count(*) FROM users")),
        }
    finally:
        await conn.close()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()

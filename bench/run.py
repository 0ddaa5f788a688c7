"""Run the benchmark: `python -m bench.run [--quick] [--workers 2] [--concurrency 8] ...`.

Starts its own PostgreSQL in bench/.data, loads --scale tickets (reused between runs), serves
the API as production does (`helpdesk-api serve`: uvicorn, uvloop, httptools), serves the
framework floor (bench/floor_app.py) the same way, drives each scenario from a separate load
generator process (bench/loadgen.py) at fixed concurrency, then django-helpdesk beside it,
reads at a series of table sizes, webhook deliveries, and writes bench/results/<timestamp>.json
and .md, with EXPLAIN plans and the create-path profile beside.
"""

import argparse
import asyncio
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import explain, pyspy, report, sizes, webhooks
from bench.context import build_context, drop_unmerged, prepare_merges
from bench.generate import ensure_dataset
from bench.measure import BIN, Ports, Servers, log, run_load, start_loadgen, stop_process, tree
from bench.pg import ADMIN_TOKEN, BENCH_DIR, DATA_DIR, BenchPostgres

RESULTS = BENCH_DIR / "results"
DEFAULT_PORT = 18601
SCENARIOS = (
    "create_ticket",
    "add_comment",
    "update_status",
    "read_ticket",
    "list_status_category",
    "list_assignee",
    "list_group",
    "list_tag",
    "list_sla_breach",
    "list_sla_breached",
    "search",
    "merge_tickets",
)
# The scenarios with both floors (bench/floor_app.py and the floor_* modules): all of them;
# webhook deliveries, measured by bench/webhooks.py, have none (the worker is the thing
# measured).
FLOORED = SCENARIOS
TODO: dict[str, str] = {}


def profile_under_load(
    service: subprocess.Popen[bytes],
    spec: dict[str, Any],
    duration: float,
    prefix: Path,
) -> dict[str, Any]:
    """An extra create_ticket window with py-spy attached to every uvicorn worker; its
    figures are not in the table (the sampler takes CPU of its own)."""
    generator = start_loadgen({**spec, "duration": duration + 1})
    assert generator.stdout is not None
    raw = prefix.with_suffix(".raw.txt")
    try:
        if generator.stdout.readline().decode().strip() != "ready":
            raise RuntimeError("load generator failed before the py-spy window")
        sampler = pyspy.record(service.pid, duration, raw)
        sampler.wait(timeout=duration + 60)
        generator.stdout.read()
        generator.wait(timeout=60)
    finally:
        stop_process(generator)
    summary = pyspy.summarize(raw)
    summary["raw"] = raw.name
    return summary


def _arguments() -> argparse.Namespace:
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
        "--sizes",
        help="table sizes for the read series, comma-separated; 'none' skips it "
        f"(default {','.join(map(str, sizes.FULL))})",
    )
    parser.add_argument("--no-webhooks", action="store_true", help="skip webhook deliveries")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="the service's; the floor and django-helpdesk take the next two",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help="where the bench's PostgreSQL lives"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args()


class Run:
    """One run's settings and what it has measured so far."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick = args.quick
        self.scale = args.scale or (2_000 if args.quick else 1_000_000)
        self.duration = args.duration or (1.0 if args.quick else 10.0)
        self.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 3.0)
        self.warmup_requests = 3 if args.quick else 5  # per client, after the warm-up time
        self.probe_seconds = 1.0 if args.quick else 4.0
        self.ports = Ports(args.port)
        if args.sizes == "none":
            self.sizes: tuple[int, ...] = ()
        elif args.sizes:
            self.sizes = tuple(int(s) for s in args.sizes.split(","))
        else:
            self.sizes = sizes.QUICK if args.quick else sizes.FULL
        self.scenarios = args.scenarios.split(",") if args.scenarios else list(SCENARIOS)
        self.started_at = datetime.now(UTC)
        self.stamp = self.started_at.strftime("%Y-%m-%dT%H%M%SZ") + ("-quick" if args.quick else "")
        self.results: dict[str, Any] = {}
        self.by_size: dict[str, list[dict[str, Any]]] = {"ours": [], "django_helpdesk": []}
        self.context: dict[str, Any] = {}
        self.watched: dict[str, list[psutil.Process]] = {}
        self.url = ""

    def spec(self, scenario: str, target: str, token: str = ADMIN_TOKEN, **extra: Any) -> Any:
        return {
            "scenario": scenario, "target": target, "token": token,
            "concurrency": self.args.concurrency, "duration": self.duration,
            "warmup": self.warmup, "warmup_requests": self.warmup_requests,
            "context": self.context, **extra,
        }  # fmt: skip

    def load(
        self, scenario: str, target: str, token: str = ADMIN_TOKEN, db_url: str = "", **extra: Any
    ) -> dict[str, Any]:
        result = run_load(
            self.spec(scenario, target, token, **extra), self.watched, db_url or self.url
        )
        log(
            f"{scenario:<22} {target.split('?')[0][:28]:<28} {result['rps']:>8} rps "
            f"p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms errors {result['errors']}"
        )
        return result

    def window(self, name: str, target: str) -> dict[str, Any]:
        """One window; a merge window gets merge pairs of its own, its leftovers deleted."""
        if name != "merge_tickets":
            return self.load(name, target)
        seconds = self.warmup + self.duration + 10
        pairs = asyncio.run(prepare_merges(self.url, self.args.concurrency, seconds))
        self.context["merge_pairs"] = pairs
        try:
            return self.load(name, target)
        finally:
            self.context.pop("merge_pairs")
            asyncio.run(drop_unmerged(self.url, pairs))

    def scenario(self, name: str) -> None:
        result = self.window(name, f"http://127.0.0.1:{self.ports.service}")
        result["framework_floor"] = result["database_floor"] = None
        result["ratio_framework_floor"] = result["ratio_database_floor"] = None
        if name in FLOORED:
            ff = self.window(name, f"http://127.0.0.1:{self.ports.floor}")
            df = self.window(name, "db:" + self.url)
            result["framework_floor"], result["database_floor"] = ff, df
            result["ratio_framework_floor"] = round(result["rps"] / ff["rps"], 3)
            result["ratio_database_floor"] = round(result["rps"] / df["rps"], 3)
        self.results[name] = result


def _webhooks(run: Run, server_url: str) -> dict[str, Any]:
    events, rate, seconds = (200, 50.0, 2.0) if run.quick else (2000, 50.0, 10.0)
    measured = asyncio.run(
        webhooks.measure(server_url, events=events, workers=1, rate=rate, duration=seconds)
    )
    log(
        f"webhook deliveries: {measured['deliveries_per_second_per_worker']}/s per worker, "
        f"latency p50 {measured['latency_p50_ms']} ms p99 {measured['latency_p99_ms']} ms"
    )
    return {
        **measured,
        "rate": rate,
        "rps": measured["deliveries_per_second_per_worker"],
        "p50_ms": measured["latency_p50_ms"],
        "p99_ms": measured["latency_p99_ms"],
        "errors": measured["backlog_events"]
        - measured["delivered"]
        + measured["latency_events"]
        - measured["latency_delivered"],
        "framework_floor": None,
        "database_floor": None,
        "ratio_framework_floor": None,
        "ratio_database_floor": None,
    }


def main() -> None:
    args = _arguments()
    run = Run(args)
    args.output.mkdir(parents=True, exist_ok=True)
    pg = BenchPostgres(args.data_dir)
    server_url = pg.start()
    servers: Servers | None = None
    explained: dict[str, Any] = {}
    profile: dict[str, Any] | None = None
    sampled: dict[str, Any] | None = None
    try:
        run.url = ensure_dataset(
            server_url, run.scale, log, regenerate=args.regenerate, progress=True
        )
        dataset = asyncio.run(report.dataset(run.url))
        run.context = asyncio.run(build_context(run.url))
        log("starting the service and the framework floor")
        servers = Servers(run.url, args.workers, run.ports)
        run.watched = {
            "api": tree(servers.service.pid),
            "floor_app": tree(servers.floor.pid),
            "postgres": tree(pg.postmaster_pid()),
        }
        for name in run.scenarios:
            run.scenario(name)
        if not args.no_peer:
            from bench.peer.side_by_side import run_peer

            peer_results, run.by_size["django_helpdesk"] = run_peer(
                pg, server_url, port=run.ports.peer, workers=args.workers,
                data_dir=args.data_dir, context=run.context, watched=run.watched,
                load=run.load, sizes=run.sizes, probe_seconds=run.probe_seconds, log=log,
            )  # fmt: skip
            for name, result in peer_results.items():
                ours = run.results.get(name.removeprefix("peer_"))
                if ours:
                    result["ours_over_peer"] = round(ours["rps"] / result["rps"], 2)
            run.results.update(peer_results)
        if run.sizes:
            main_row = sizes.main_size(
                pg, run.url, dataset["tickets"], run.context, service=servers.service,
                port=run.ports.service, duration=run.probe_seconds,
            )  # fmt: skip
        if pyspy.available() and not args.no_pyspy:
            spec = run.spec("create_ticket", f"http://127.0.0.1:{run.ports.service}")
            prefix = args.output / f"{run.stamp}-pyspy-create"
            sampled = profile_under_load(servers.service, spec, run.duration, prefix)
            log(f"py-spy on the service under create load: {sampled['inclusive_cpu_pct_by_step']}")
        servers.stop()
        servers = None

        if run.sizes:
            smaller = tuple(s for s in run.sizes if s != run.scale)
            run.by_size["ours"] = sizes.ours(
                pg, server_url, smaller, ports=run.ports, workers=args.workers,
                duration=run.probe_seconds, log=log,
            )  # fmt: skip
            run.by_size["ours"] = sorted(
                [*run.by_size["ours"], main_row], key=lambda r: r["tickets"]
            )
        if not args.no_webhooks:
            run.results["webhook_deliveries"] = _webhooks(run, server_url)
        if not args.no_explain:
            explained = explain.capture(
                pg, run.url, args.output / f"{run.stamp}-explain", run.context, run.ports.service
            )
            log(f"EXPLAIN (ANALYZE, BUFFERS) of {len(explained)} queries saved")
        profile_creates = args.profile_creates
        if profile_creates is None:
            profile_creates = 100 if args.quick else 1000
        if profile_creates:
            context_file = args.output / f"{run.stamp}-context.json.tmp"
            context_file.write_text(json.dumps(run.context))
            out = subprocess.run(
                [str(BIN / "python"), "-m", "bench.profile_create", run.url,
                 str(args.output / f"{run.stamp}-profile-create"), str(profile_creates),
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

    result = {
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "quick": args.quick,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "duration": run.duration,
        "warmup": run.warmup,
        "machine": report.machine(postgres_version),
        "dataset": dataset,
        "scenarios": run.results,
        "read_by_table_size": run.by_size,
        "explain": explained,
        "profile_create_pyinstrument": profile,
        "profile_create_pyspy": sampled,
        "todo": TODO,
    }
    (args.output / f"{run.stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    table = report.markdown(result)
    (args.output / f"{run.stamp}.md").write_text(table)
    print(table)
    log(f"wrote {args.output / run.stamp}.json and .md")


if __name__ == "__main__":
    main()

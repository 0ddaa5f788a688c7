"""Messaging channels (issue #15): `python -m bench.channels [--messages 200] [--alerts 1000]`.

Stand-alone, not part of `bench.run`. On the bench's PostgreSQL (`bench/pg.py`: fsync and
synchronous commit on) it makes a template database (migrations, the bench admin, a chat
channel and an Alertmanager channel, made through the API) and three copies of it:

- **A, the service at one client**: the application in process (httpx on its ASGI app, no
  socket), one request at a time: `--messages` new messages (each from a new sender: a new
  customer, a ticket), then a follow-up from each of those senders (a comment on their
  conversation), then `--alerts` alerts in 40 groups, 5 to an Alertmanager notification.
  Every statement of every request is recorded (`channels_capture.py`).
- **B, the database floor**: the same statements replayed in the same order on raw asyncpg,
  one transaction per request, so the ratio `service / floor` (messages or notifications per
  second) is what the framework, the ORM and the service's Python cost over the SQL itself.
- **C, the service at `--concurrency` clients**: the same three scenarios side by side, for
  throughput, and the alert storm's wall time and latency (no floor: the floor cannot keep
  sequence values in step out of order). It checks the storm kept one ticket per group and
  lost no alert.

The first `--warmup` requests of each scenario are done on both sides but not timed. Results:
`results/<UTC>-channels.json` and `.md`, with the load average before and after.
"""

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager

from bench.channels_capture import Recorder, replay
from bench.pg import ADMIN_TOKEN, BenchPostgres, migrate_and_seed, recreate_database
from helpdesk_api.core.db import create_engine
from helpdesk_api.core.settings import Settings
from helpdesk_api.main import create_app

RESULTS = Path(__file__).resolve().parent / "results"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
GROUPS = 40
PER_NOTIFICATION = 5


def _settings(url: str) -> Settings:
    return Settings.model_validate(
        {"database_url": url, "data_dir": Path(tempfile.mkdtemp(prefix="bench-channels-")),
         "rate_limit_per_minute": 0, "access_log": False, "log_level": "warning"}
    )  # fmt: skip


class Service:
    """The application in process, and a client on it."""

    def __init__(self, url: str) -> None:
        self.app = create_app(_settings(url))
        self.lifespan = LifespanManager(self.app)
        self.client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> httpx.AsyncClient:
        await self.lifespan.__aenter__()
        transport = httpx.ASGITransport(app=self.app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://bench")
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        assert self.client is not None
        await self.client.aclose()
        await self.lifespan.__aexit__(None, None, None)


def message(n: int, *, follow_up: bool) -> dict[str, Any]:
    return {
        "external_id": f"{'f' if follow_up else 'n'}-{n}",
        "sender": {"kind": "phone", "value": f"+3900{n:08d}"},
        "name": f"Caller {n}",
        "text": "Any news on my order?" if follow_up else f"My order {n} did not arrive.\nHelp",
    }


def notifications(alerts: int) -> list[dict[str, Any]]:
    """Alerts in GROUPS groups, PER_NOTIFICATION to a notification, groups interleaved."""
    per_group = max(alerts // GROUPS, PER_NOTIFICATION)
    bodies = []
    for start in range(0, per_group, PER_NOTIFICATION):
        for g in range(GROUPS):
            batch = [
                {"status": "firing", "fingerprint": f"g{g}-a{start + j}",
                 "labels": {"alertname": f"Bench{g}", "severity": "warning",
                            "instance": f"host{start + j}"},
                 "annotations": {"summary": "bench"}}
                for j in range(PER_NOTIFICATION)
            ]  # fmt: skip
            bodies.append({
                "version": "4", "groupKey": f'{{}}:{{alertname="Bench{g}"}}', "status": "firing",
                "receiver": "helpdesk", "groupLabels": {"alertname": f"Bench{g}"},
                "commonLabels": {"alertname": f"Bench{g}", "severity": "warning"},
                "commonAnnotations": {}, "externalURL": "http://am", "alerts": batch,
            })  # fmt: skip
    return bodies


async def _setup(url: str) -> dict[str, dict[str, Any]]:
    async with Service(url) as client:
        channels = {}
        for kind in ("chat", "alertmanager"):
            response = await client.post(
                "/v1/channels", json={"kind": kind, "name": f"bench {kind}"}, headers=ADMIN
            )
            response.raise_for_status()
            channels[kind] = response.json()
        return channels


def _requests(channels: dict[str, dict[str, Any]], args: argparse.Namespace) -> list[Any]:
    """(scenario, path, body, secret) in the order both sides run them."""
    chat, am = channels["chat"], channels["alertmanager"]
    out: list[Any] = []
    for follow_up, scenario in ((False, "new_message"), (True, "follow_up")):
        out += [(scenario, f"/v1/channels/{chat['id']}/messages", message(n, follow_up=follow_up),
                 chat["secret"]) for n in range(args.messages)]  # fmt: skip
    out += [("alert_notification", f"/v1/channels/alertmanager/{am['id']}", body, am["secret"])
            for body in notifications(args.alerts)]  # fmt: skip
    return out


async def _post(client: httpx.AsyncClient, path: str, body: Any, secret: str) -> float:
    started = time.perf_counter()
    response = await client.post(path, json=body, headers={"Authorization": f"Bearer {secret}"})
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
    return time.perf_counter() - started


async def one_at_a_time(url: str, requests: list[Any], warmup: int) -> tuple[dict, Recorder]:
    recorder = Recorder()
    seconds: dict[str, list[float]] = {}
    seen: dict[str, int] = {}
    service = Service(url)
    async with service as client:
        recorder.install(service.app.state.engine)
        for scenario, path, body, secret in requests:
            seen[scenario] = seen.get(scenario, 0) + 1
            timed = seen[scenario] > warmup
            with recorder.request(scenario, timed=timed):
                took = await _post(client, path, body, secret)
            if timed:
                seconds.setdefault(scenario, []).append(took)
    return seconds, recorder


async def _gather(client: httpx.AsyncClient, requests: list[Any], concurrency: int) -> list[float]:
    limit = asyncio.Semaphore(concurrency)

    async def one(r: Any) -> float:
        async with limit:
            return await _post(client, r[1], r[2], r[3])

    return list(await asyncio.gather(*(one(r) for r in requests)))


async def side_by_side(url: str, requests: list[Any], concurrency: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with Service(url) as client:
        for scenario in ("new_message", "follow_up", "alert_notification"):
            mine = [r for r in requests if r[0] == scenario]
            started = time.perf_counter()
            latencies = await _gather(client, mine, concurrency)
            wall = time.perf_counter() - started
            out[scenario] = {
                "requests": len(mine), "wall_s": round(wall, 3),
                "rps": round(len(mine) / wall, 1), **_percentiles(latencies),
            }  # fmt: skip
    out["storm_check"] = await _storm_check(url)
    return out


async def _storm_check(url: str) -> dict[str, Any]:
    """One ticket per group, and every alert's fingerprint kept by its group."""
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT count(*) AS groups, count(DISTINCT ticket_id) AS tickets, "
            "sum((SELECT count(*) FROM jsonb_object_keys(alerts)))::bigint AS alerts, "
            "(SELECT count(*) FROM tickets WHERE channel = 'alert') AS alert_tickets "
            "FROM alert_groups"
        )
    finally:
        await connection.close()
    return dict(row)


async def _same_rows(a: str, b: str) -> bool:
    """The replay did the service's work: the same rows in every table it wrote."""
    counts = []
    for url in (a, b):
        connection = await asyncpg.connect(url)
        try:
            counts.append(
                await connection.fetchrow(
                    "SELECT (SELECT count(*) FROM tickets) AS tickets, "
                    "(SELECT count(*) FROM ticket_comments) AS comments, "
                    "(SELECT count(*) FROM users) AS users, "
                    "(SELECT count(*) FROM channel_messages) AS messages, "
                    "(SELECT count(*) FROM events) AS events, "
                    "(SELECT max(id) FROM tickets) AS last_ticket"
                )
            )
        finally:
            await connection.close()
    return dict(counts[0]) == dict(counts[1])


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def _compare(service: dict[str, list[float]], floor: dict[str, list[float]]) -> dict[str, Any]:
    out = {}
    for scenario, times in service.items():
        floor_times = floor[scenario]
        rps, floor_rps = len(times) / sum(times), len(floor_times) / sum(floor_times)
        out[scenario] = {
            "requests": len(times), "rps": round(rps, 1), **_percentiles(times),
            "floor_rps": round(floor_rps, 1),
            "floor_p50_ms": round(statistics.median(floor_times) * 1000, 2),
            "ratio_database_floor": round(rps / floor_rps, 3),
        }  # fmt: skip
    return out


async def main(args: argparse.Namespace) -> Path:
    load_before = os.getloadavg()
    pg = BenchPostgres()
    server = pg.start()
    try:
        template = await recreate_database(server, "bench_channels_t")
        await migrate_and_seed(template)
        channels = await _setup(template)
        a, b, c = [
            await recreate_database(server, f"bench_channels_{x}", "bench_channels_t")
            for x in "abc"
        ]
        requests = _requests(channels, args)
        service, recorder = await one_at_a_time(a, requests, args.warmup)
        engine = create_engine(b, pool_size=1, max_overflow=0)
        try:
            floor = await replay(engine, recorder.traces)
        finally:
            await engine.dispose()
        rows_match = await _same_rows(a, b)
        concurrent = await side_by_side(c, requests, args.concurrency)
    finally:
        pg.stop()
    statements = {
        s: round(statistics.mean(len(t.statements) for t in recorder.traces if t.label == s), 1)
        for s in service
    }
    result = {
        "started": datetime.now(UTC).isoformat(), "args": vars(args),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "cpus": os.cpu_count(), "one_client": _compare(service, floor),
        "statements_per_request": statements, "floor_rows_match_service": rows_match,
        f"{args.concurrency}_clients": concurrent,
    }  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    path = RESULTS / f"{stamp}-channels.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    path.with_suffix(".md").write_text(_markdown(result, args))
    return path


def _markdown(result: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"# Channels bench {result['started']}",
        "",
        f"load average before {result['load_average_before']}, after "
        f"{result['load_average_after']}; {result['cpus']} CPUs; {args.messages} messages, "
        f"{args.alerts} alerts; the floor's rows match the service's: "
        f"{result['floor_rows_match_service']}",
        "",
        "| one client | rps | p50 ms | p99 ms | floor rps | ratio | statements |",
        "|---|---|---|---|---|---|---|",
    ]
    for scenario, r in result["one_client"].items():
        lines.append(
            f"| {scenario} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | {r['floor_rps']} | "
            f"{r['ratio_database_floor']} | {result['statements_per_request'][scenario]} |"
        )
    concurrent: dict[str, Any] = result[f"{args.concurrency}_clients"]
    lines += ["", f"| {args.concurrency} clients | requests | wall s | rps | p50 ms | p99 ms |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for scenario, r in concurrent.items():
        if scenario != "storm_check":
            lines.append(f"| {scenario} | {r['requests']} | {r['wall_s']} | {r['rps']} | "
                         f"{r['p50_ms']} | {r['p99_ms']} |")  # fmt: skip
    lines += ["", f"storm: {concurrent['storm_check']}", ""]
    return "\n".join(lines)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    return parser.parse_args()


if __name__ == "__main__":
    print(asyncio.run(main(_parse())))

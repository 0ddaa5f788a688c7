"""The results file's Markdown table, and what the report says about the machine and data."""

import os
import platform
from pathlib import Path
from typing import Any

import asyncpg
import psutil


def machine(postgres_version: str) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "postgres": postgres_version,
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


async def dataset(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM tickets) AS tickets, "
            "(SELECT count(*) FROM ticket_comments) AS comments, "
            "(SELECT count(*) FROM users) AS users, "
            "(SELECT count(*) FROM tickets WHERE sla_next_breach_at IS NOT NULL) "
            "AS tickets_with_running_sla, "
            "(SELECT count(*) FROM tickets WHERE sla_next_breach_at <= now()) AS tickets_breached"
        )
        return {key: int(value) for key, value in row.items()}
    finally:
        await conn.close()


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value}"


def markdown(report: dict[str, Any]) -> str:
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
    scenarios = report["scenarios"]
    for name, s in scenarios.items():
        if name.startswith("peer_") or name == "webhook_deliveries":
            continue
        ff = s.get("framework_floor") or {}
        df = s.get("database_floor") or {}
        cpu = s["cpu_ms_per_request"]
        lines.append(
            f"| {name} | {s['rps']} | {s['p50_ms']} | {s['p99_ms']} | {s['errors']} | "
            f"{_fmt(ff.get('rps'))} | {_fmt(s['ratio_framework_floor'])} | "
            f"{_fmt(df.get('rps'))} | {_fmt(s['ratio_database_floor'])} | "
            f"{cpu['api']} / {cpu['postgres']} / {cpu['loadgen']} | "
            f"{'+'.join(map(str, s.get('server_connections_per_worker', [])))} |"
        )
    hooks = scenarios.get("webhook_deliveries")
    if hooks:
        lines += [
            "",
            f"Webhook deliveries ({hooks['workers']} `helpdesk-api worker`, a local receiver): "
            f"{hooks['deliveries_per_second_per_worker']} deliveries/s per worker draining "
            f"{hooks['backlog_events']:,} events; event-to-delivery p50 {hooks['p50_ms']} ms, "
            f"p99 {hooks['p99_ms']} ms at {hooks['rate']} events/s; "
            f"{hooks['worker_cpu_ms_per_delivery']} ms of worker CPU per delivery.",
        ]
    peers = {n: s for n, s in scenarios.items() if n.startswith("peer_")}
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
            f"{p.get('peer_tickets_in_table', '–')} | {_fmt(p['ours_over_peer'])} |"
            for n, p in peers.items()
        ]
    sizes = report.get("read_by_table_size") or {}
    if sizes.get("ours") or sizes.get("django_helpdesk"):
        theirs = {r["tickets"]: r for r in sizes.get("django_helpdesk", [])}
        mine = {r["tickets"]: r for r in sizes.get("ours", [])}
        lines += [
            "",
            "Reading one ticket by table size (one client, random ids):",
            "",
            "| tickets | ours p50 ms | ours reads/s | ours CPU ms/read api / pg | "
            "django-helpdesk p50 ms | its reads/s | its CPU ms/read gunicorn / pg |",
            "|---:|---:|---:|---|---:|---:|---|",
        ]
        for tickets in sorted(mine.keys() | theirs.keys()):
            o, t = mine.get(tickets, {}), theirs.get(tickets, {})
            oc, tc = o.get("cpu_ms_per_read", {}), t.get("cpu_ms_per_read", {})
            lines.append(
                f"| {tickets:,} | {_fmt(o.get('p50_ms'))} | {_fmt(o.get('rps'))} | "
                f"{_fmt(oc.get('server'))} / {_fmt(oc.get('postgres'))} | "
                f"{_fmt(t.get('p50_ms'))} | {_fmt(t.get('rps'))} | "
                f"{_fmt(tc.get('server'))} / {_fmt(tc.get('postgres'))} |"
            )
    if report["todo"]:
        lines += ["", "Not measured yet:", ""]
        lines += [f"- {name}: {why}" for name, why in report["todo"].items()]
    return "\n".join(lines) + "\n"

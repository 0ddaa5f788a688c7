"""EXPLAIN (ANALYZE, BUFFERS) of the list, search and SLA-deadline queries exactly as the
service sends them, and of the worker's due-SLA query.

auto_explain is loaded into the service's connections for this pass only (a database-level
setting, then a fresh one-worker service: bench/capture_sql.py), each list request is sent
twice and the plans of the second, warm run are cut out of the PostgreSQL log. The worker's
queries are built the way helpdesk_api.sla.tasks.process_due_sla builds them, compiled by
SQLAlchemy's asyncpg dialect, and explained in a transaction that is rolled back (the claim
locks rows FOR UPDATE SKIP LOCKED).
"""

import asyncio
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from bench.capture_sql import log_entries, logged_request, logged_service
from bench.pg import BenchPostgres
from helpdesk_api.models import TicketSlaMetric
from helpdesk_api.sla.tasks import BATCH

_DURATION = re.compile(r"duration: ([0-9.]+) ms\s+plan:")
_EXECUTION = re.compile(r"Execution Time: ([0-9.]+) ms")
AUTO_EXPLAIN = {
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    "auto_explain.log_timing": "on",
}


def queries(context: dict[str, Any]) -> dict[str, dict[str, str]]:
    tags = context["tags"]
    return {
        "list_status_category_open": {"status_category": "open"},
        "list_status_category_new": {"status_category": "new"},
        "list_assignee": {"assignee_id": context["assignee_ids"][0]},
        "list_assignee_none": {"assignee_id": "none"},
        "list_group": {"group_id": str(context["group_ids"][0])},
        "list_tag_common": {"tag": tags[0]},
        "list_tag_rare": {"tag": tags[-1]},
        "list_sla_breach": {"sort": "sla_breach_at"},
        "list_sla_breached": {"sla_status": "breached"},
        "list_sla_at_risk": {"sla_status": "at_risk"},
        "search_common_word": {"q": "printer"},
        "search_rare_word": {"q": "licenza"},
        "search_two_words": {"q": "vpn timeout"},
        "search_cyrillic": {"q": "пароль"},
        "search_no_match": {"q": "zanzibar"},
    }


def _plans(chunk: str) -> list[str]:
    return [e for e in log_entries(chunk) if "plan:" in e and "FROM tickets" in e and "LIMIT" in e]


def worker_statements(now: datetime) -> dict[str, Select[Any]]:
    """The worker's SLA queries, built as helpdesk_api.sla.tasks.process_due_sla builds them."""
    return {
        "sla_worker_due": select(TicketSlaMetric)
        .where(TicketSlaMetric.due_at.is_not(None), TicketSlaMetric.due_at <= now)
        .order_by(TicketSlaMetric.due_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True),
        "sla_worker_next_due": select(func.min(TicketSlaMetric.due_at)).where(
            TicketSlaMetric.due_at.is_not(None)
        ),
    }


async def _explain_worker(url: str, out_dir: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    conn = await asyncpg.connect(url)
    try:
        for name, statement in worker_statements(datetime.now(UTC)).items():
            compiled = statement.compile(dialect=asyncpg_dialect.dialect())
            params = [compiled.params[key] for key in compiled.positiontup or []]
            transaction = conn.transaction()
            await transaction.start()
            try:
                rows = len(await conn.fetch(compiled.string, *params))  # also warms the cache
                plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {compiled.string}", *params)
            finally:
                await transaction.rollback()
            text = "\n".join(r[0] for r in plan)
            (out_dir / f"{name}.txt").write_text(
                f"{compiled.string}\n-- parameters: {params}\n\n{text}\n"
            )
            timing = _EXECUTION.search(text)
            found[name] = {
                "rows": rows,
                "plan_ms": float(timing.group(1)) if timing else None,
                "file": f"{out_dir.name}/{name}.txt",
            }
    finally:
        await conn.close()
    return found


def capture(
    pg: BenchPostgres, url: str, out_dir: Path, context: dict[str, Any], port: int
) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    found: dict[str, Any] = {}
    with logged_service(pg, url, AUTO_EXPLAIN, port) as client:
        for name, params in queries(context).items():
            path = "/v1/tickets?" + urlencode({"sort": "-updated_at", **params})
            client.get(path).raise_for_status()
            time.sleep(0.1)
            response, chunk = logged_request(pg, client, "GET", path, None)
            response.raise_for_status()
            plans = _plans(chunk)
            (out_dir / f"{name}.txt").write_text(
                f"GET {path}\n\n" + ("\n".join(plans) or "(no plan captured)\n")
            )
            durations = [float(d) for p in plans for d in _DURATION.findall(p)]
            found[name] = {
                "path": path,
                "rows": len(response.json()["data"]),
                "plan_ms": durations[0] if durations else None,
                "file": f"{out_dir.name}/{name}.txt",
            }
    found.update(asyncio.run(_explain_worker(url, out_dir)))
    return found

"""Ticket reports at scale: N tickets (default 1,000,000) with their metrics, SLA clocks and
ratings, every report for 30 days and a year, by each dimension, against a floor.

```sh
PYTHONPATH=src python -m bench.reports --scale 100000      # loads once, then reuses
PYTHONPATH=src python -m bench.reports                      # 1M
```

Its own database (``bench_reports_<N>``) on the bench's PostgreSQL (``bench/pg.py``):
migrations, then tickets by one ``INSERT … SELECT generate_series`` spread over two years
(the newest months denser), 8 channels, 4 priorities, 12 groups, 20 agents, 50
organisations, 6 locales, 0–2 of 200 tags; ``ticket_metrics`` derived from them by a second
``INSERT … SELECT`` (what the pipeline would have written), a first-reply SLA clock per
replied ticket and a rating for a fifth of the solved ones. Triggers and foreign keys are
skipped while loading (``session_replication_role = replica``); then ``VACUUM ANALYZE``.

Measured, each ``--repeat`` times, p50 and p95:

* **service**: ``reports.tickets_report.ticket_report`` as the route runs it (an admin, the
  issue's ten metrics, ``interval=day``), for 30 days and 365 days ending at NOW, without a
  dimension and by each dimension;
* **floor**: the figures the base tables hold on their own (``created``, ``solved``,
  ``first_reply_time`` and ``resolution_time`` percentiles from ``tickets``' own timestamps),
  one hand-written statement per range and dimension over ``tickets`` alone: what a report
  costs with no maintained table at all, and no first-contact, reopen or wait figures
  (those need the ticket's history: audits and comments, not loaded here).

Writes ``bench/results/<UTC>-reports.txt``.
"""

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from bench.pg import BENCH_DIR, BenchPostgres, database_exists, recreate_database, with_database
from helpdesk_api.core import migrations
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.db import create_engine, create_sessionmaker, to_libpq_url
from helpdesk_api.models import Role
from helpdesk_api.reports.request import DIMENSIONS, Filters, parse
from helpdesk_api.reports.tickets_report import ticket_report

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
FORMAT = 1
METRICS = ("created,solved,backlog,first_reply_time.p50,first_reply_time.p90,"
           "resolution_time.p50,fcr_rate,reopen_rate,sla_achieved_rate,csat_score")  # fmt: skip

LOAD_TICKETS = """
WITH statuses AS (SELECT category, id FROM ticket_statuses WHERE is_default),
raw AS (
    SELECT g, random() AS r_status, random() AS r_prio, random() AS r_tags, random() AS r_t1,
           random() AS r_t2, random() AS r_rep, random() AS r_sol, random() AS r_grp,
           -- age in days: half of the tickets within the last 180 days, the rest over 2 years
           CASE WHEN g > $1 / 2 THEN (($1 - g)::float / ($1 / 2)) * 180
                ELSE 180 + (($1 / 2 - g)::float / ($1 / 2)) * 550 END AS age
    FROM generate_series(1, $1) AS g
), shaped AS (
    SELECT raw.*, $2::timestamptz - make_interval(secs => age * 86400) AS created,
           CASE WHEN age > 30 AND r_status < 0.9 THEN 'closed'
                WHEN age > 7 AND r_status < 0.8 THEN 'solved'
                WHEN r_status < 0.2 THEN 'new' WHEN r_status < 0.5 THEN 'open'
                WHEN r_status < 0.65 THEN 'pending' WHEN r_status < 0.7 THEN 'on_hold'
                ELSE 'solved' END AS category
    FROM raw
)
INSERT INTO tickets (subject, requester_id, submitter_id, assignee_id, group_id,
    organization_id, status_id, status_category, priority, priority_rank, channel, locale,
    tags, created_at, updated_at, status_changed_at, solved_at, first_agent_reply_at,
    merged_into_id, comment_count, is_public, search_document, public_search_document)
SELECT 'Ticket ' || g, $3 + (g % 1000), $3 + (g % 1000),
       CASE WHEN category = 'new' THEN NULL ELSE $4 + (g % 20) END,
       CASE WHEN r_grp < 0.9 THEN $5 + (g % 12) END,
       CASE WHEN g % 3 = 0 THEN $6 + (g % 50) END,
       statuses.id, category,
       (ARRAY['low', 'normal', 'high', 'urgent'])[1 + floor(r_prio * 4)::int],
       1 + floor(r_prio * 4)::int,
       (ARRAY['api', 'web', 'email', 'chat', 'phone', 'telegram', 'social', 'alert'])[
           1 + (g % 8)],
       (ARRAY['en', 'it', 'de', 'fr', 'es', 'pt'])[1 + (g % 6)],
       CASE WHEN r_tags < 0.3 THEN ARRAY[]::varchar[]
            WHEN r_tags < 0.7 THEN ARRAY['tag' || floor(r_t1 * r_t1 * 200)::int]::varchar[]
            ELSE ARRAY['tag' || floor(r_t1 * r_t1 * 200)::int,
                       'tag' || (200 + floor(r_t2 * 200)::int)]::varchar[] END,
       created, created + interval '1 hour', created + interval '1 hour',
       CASE WHEN category IN ('solved', 'closed')
            THEN created + make_interval(mins => (30 + r_sol * r_sol * 20000)::int) END,
       CASE WHEN category <> 'new' AND r_rep < 0.95
            THEN created + make_interval(mins => (1 + r_rep * r_rep * 1500)::int) END,
       CASE WHEN category = 'closed' AND g % 100 = 0 THEN g - 1 END,
       3, true, ''::tsvector, ''::tsvector
FROM shaped JOIN statuses USING (category)
"""

LOAD_METRICS = """
INSERT INTO ticket_metrics (ticket_id, status_category, category_since, replies,
    replies_at_solve, reopens, assignee_changes, group_changes, first_assigned_at,
    first_reply_at, solved_at, closed_at, left_backlog_at, first_reply_minutes,
    full_resolution_minutes, agent_wait_minutes, requester_wait_minutes, on_hold_minutes,
    updated_at)
SELECT id, status_category, status_changed_at, 1 + id % 4,
       CASE WHEN solved_at IS NOT NULL AND merged_into_id IS NULL THEN 1 + id % 4 END,
       CASE WHEN id % 10 = 0 THEN 1 ELSE 0 END, id % 3, id % 2,
       CASE WHEN assignee_id IS NOT NULL THEN created_at END,
       first_agent_reply_at,
       CASE WHEN merged_into_id IS NULL THEN solved_at END,
       CASE WHEN status_category = 'closed' THEN solved_at + interval '4 days' END,
       CASE WHEN status_category IN ('solved', 'closed') THEN solved_at END,
       extract(epoch FROM first_agent_reply_at - created_at) / 60,
       CASE WHEN merged_into_id IS NULL THEN extract(epoch FROM solved_at - created_at) / 60 END,
       (id % 600)::float, (id % 900)::float, (id % 7)::float, now()
FROM tickets
"""

LOAD_SLA = """
INSERT INTO ticket_sla_metrics (ticket_id, metric, cycle, policy_id, target_minutes,
    business_hours, pause_on, status, started_at, achieved_at, breached_at)
SELECT id, 'first_reply', 1, $1, 60, false, '{}',
       CASE WHEN first_agent_reply_at <= created_at + interval '60 minutes'
            THEN 'achieved' ELSE 'breached' END,
       created_at, first_agent_reply_at,
       CASE WHEN first_agent_reply_at > created_at + interval '60 minutes'
            THEN created_at + interval '60 minutes' END
FROM tickets WHERE first_agent_reply_at IS NOT NULL
"""

LOAD_RATINGS = """
INSERT INTO satisfaction_ratings (ticket_id, solved_at, assignee_id, group_id, score,
    offered_at, rated_at)
SELECT id, solved_at, assignee_id, group_id,
       CASE WHEN id % 5 = 0 THEN 'bad' ELSE 'good' END, solved_at, solved_at + interval '1 hour'
FROM tickets WHERE solved_at IS NOT NULL AND merged_into_id IS NULL AND id % 5 IN (0, 1)
"""

FLOOR_KEYS = {
    "channel": "channel", "group": "group_id", "assignee": "assignee_id",
    "priority": "priority", "organization": "organization_id", "locale": "locale",
    "type": "type", "status": "status_category", "tag": "t.tag",
}  # fmt: skip


def floor_sql(group_by: str | None) -> str:
    """Created, solved and the first-reply and resolution percentiles per day, from tickets
    alone: one pass over the range's tickets per family, as tight as hand-written SQL gets."""
    key = FLOOR_KEYS[group_by] if group_by else "NULL"
    tags = ", LATERAL unnest(tickets.tags) AS t(tag)" if group_by == "tag" else ""
    group = ", 2" if group_by else ""
    day = "date_trunc('day', {col}, 'UTC')"
    created = (
        f"SELECT {day.format(col='created_at')}, {key}, count(*) FROM tickets{tags} "
        f"WHERE created_at >= $1 AND created_at < $2 GROUP BY 1{group}"
    )
    solved = (
        f"SELECT {day.format(col='solved_at')}, {key}, count(*), percentile_cont(0.5) "
        f"WITHIN GROUP (ORDER BY solved_at - created_at) FROM tickets{tags} "
        f"WHERE solved_at >= $1 AND solved_at < $2 AND merged_into_id IS NULL GROUP BY 1{group}"
    )
    replied = (
        f"SELECT {day.format(col='first_agent_reply_at')}, {key}, percentile_cont(0.5) "
        "WITHIN GROUP (ORDER BY first_agent_reply_at - created_at), percentile_cont(0.9) "
        f"WITHIN GROUP (ORDER BY first_agent_reply_at - created_at) FROM tickets{tags} "
        f"WHERE first_agent_reply_at >= $1 AND first_agent_reply_at < $2 GROUP BY 1{group}"
    )
    return f"{created};\n{solved};\n{replied}"


async def load(url: str, scale: int, log: Any) -> None:
    conn = await asyncpg.connect(to_libpq_url(url))
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "INSERT INTO users (name, role) SELECT 'Customer ' || g, 'customer' "
            "FROM generate_series(1, 1000) g; "
            "INSERT INTO users (name, role) SELECT 'Agent ' || g, 'agent' "
            "FROM generate_series(1, 20) g; "
            "INSERT INTO groups (name) SELECT 'Group ' || g FROM generate_series(1, 12) g; "
            "INSERT INTO organizations (name) SELECT 'Org ' || g FROM generate_series(1, 50) g"
        )
        ids = await conn.fetchrow(
            "SELECT (SELECT min(id) FROM users WHERE role = 'customer') AS customer, "
            "(SELECT min(id) FROM users WHERE role = 'agent') AS agent, "
            "(SELECT min(id) FROM groups) AS grp, (SELECT min(id) FROM organizations) AS org"
        )
        for label, sql, args in (
            ("tickets", LOAD_TICKETS, (scale, NOW, *ids.values())),
            ("ticket_metrics", LOAD_METRICS, ()),
        ):
            started = time.perf_counter()
            await conn.execute(sql, *args)
            log(f"loaded {label} in {time.perf_counter() - started:.1f} s")
        calendar = await conn.fetchval(
            "INSERT INTO business_calendars (name, time_zone, always_open, hours, holidays) "
            "VALUES ('24/7', 'UTC', true, '[]', '[]') RETURNING id"
        )
        policy = await conn.fetchval(
            "INSERT INTO sla_policies (name, calendar_id, conditions) "
            "VALUES ('Bench', $1, '{}') RETURNING id",
            calendar,
        )
        started = time.perf_counter()
        await conn.execute(LOAD_SLA, policy)
        await conn.execute(LOAD_RATINGS)
        log(f"loaded SLA clocks and ratings in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        log(f"vacuum analyze in {time.perf_counter() - started:.1f} s")
        await conn.execute(
            "CREATE TABLE bench_reports_dataset (scale bigint, format int); "
            f"INSERT INTO bench_reports_dataset VALUES ({scale}, {FORMAT})"
        )
    finally:
        await conn.close()


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"


async def _ready(server: str, name: str, url: str) -> bool:
    if not await database_exists(server, name):
        return False
    conn = await asyncpg.connect(to_libpq_url(url))
    try:
        return bool(
            await conn.fetchval(
                "SELECT to_regclass('bench_reports_dataset') IS NOT NULL AND EXISTS "
                "(SELECT 1 FROM bench_reports_dataset WHERE format = $1)",
                FORMAT,
            )
        )
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()


async def run(scale: int, repeat: int, log: Any) -> None:
    pg = BenchPostgres()
    server = pg.start()
    name = f"bench_reports_{scale}"
    url = with_database(server, name)
    if not await _ready(server, name, url):
        await recreate_database(server, name)
        await asyncio.to_thread(migrations.upgrade, url)
        await load(url, scale, log)
    engine = create_engine(url, pool_size=2, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    conn = await asyncpg.connect(to_libpq_url(url))
    admin = Principal(user_id=1, role=Role.admin, name="bench", ticket_access="all", token_id=0)
    try:
        log(f"tickets: {await conn.fetchval('SELECT count(*) FROM tickets'):,}; "
            f"load average {psutil.getloadavg()}")  # fmt: skip
        for days in (30, 365):
            start = NOW - timedelta(days=days)
            log(f"\n--- {days} days, interval=day, the issue's ten metrics")
            for group_by in (None, *DIMENSIONS):
                request = parse(metrics=METRICS, group_by=group_by, interval="day", start=start,
                                end=NOW, tz="UTC", filters=Filters())  # fmt: skip
                service: list[float] = []
                rows = 0
                for _ in range(repeat):
                    async with sessionmaker() as session:
                        began = time.perf_counter()
                        report = await ticket_report(session, admin, request)
                        service.append(time.perf_counter() - began)
                        rows = len(report.data)
                floor: list[float] = []
                for _ in range(repeat):
                    began = time.perf_counter()
                    for statement in floor_sql(group_by).split(";\n"):
                        await conn.fetch(statement, start, NOW)
                    floor.append(time.perf_counter() - began)
                log(f"{group_by or '(none)':>13}: service {_ms(service)} ({rows} rows) | "
                    f"floor {_ms(floor)}")  # fmt: skip
        log(f"\nload average after: {psutil.getloadavg()}")
    finally:
        await conn.close()
        await engine.dispose()
        pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    out = Path(BENCH_DIR / "results" / f"{stamp}-reports.txt")
    lines: list[str] = []

    def log(message: str) -> None:
        print(message, flush=True)
        lines.append(message)

    try:
        asyncio.run(run(args.scale, args.repeat, log))
    finally:
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""The automation sweep at scale: 50 rules over N tickets (default 1,000,000).

```sh
PYTHONPATH=src python -m bench.automations                # loads once, then reuses
PYTHONPATH=src python -m bench.automations --scale 200000 --acts-per-rule 20
```

Its own database (``bench_automations_<N>``) on the bench's PostgreSQL (``bench/pg.py``):
migrations, then N tickets written by one ``INSERT … SELECT generate_series`` (only the
``tickets`` table matters to a sweep, so no comments or search documents: the load skips
triggers and foreign-key checks with ``session_replication_role = replica``). Ages spread
over two years; the newest 3 % mostly in new/open/pending/on-hold/solved, older ones 90 %
closed (as ``bench/generate.py`` shapes them); 0–2 of 200 tags, 12 groups, reply times and
an SLA deadline on the recent open ones. Then the defaults are turned off and 50 rules are
written, over every time field, with business hours on some.

It prints, and writes to ``bench/results/<UTC>-automations.txt``:

1. for each rule, the EXPLAIN (ANALYZE, BUFFERS) of its first candidate page, exactly as
   ``helpdesk_api.automation.candidates`` builds it, and whether the plan reads ``tickets``
   by an index (a ``Seq Scan on tickets`` is reported as a failure);
2. the candidate queries of all 50 rules, timed (what a sweep with nothing to do costs);
3. one real sweep (``automation.sweep.sweep``) acting on at most ``--acts-per-rule``
   tickets per rule, through the ticket pipeline, timed: tickets acted on per second.
"""

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from bench.pg import BENCH_DIR, BenchPostgres, database_exists, recreate_database, with_database
from helpdesk_api.assembly import connect
from helpdesk_api.automation.candidates import CompiledAutomation, candidates_query
from helpdesk_api.automation.sweep import Outcome, load_automations, sweep
from helpdesk_api.automation.timing import AutomationRule
from helpdesk_api.core import migrations
from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.core.settings import Settings

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
FORMAT = 1

LOAD_SQL = """
WITH statuses AS (
    SELECT category, id FROM ticket_statuses WHERE is_default
), raw AS (
    SELECT g,
           -- age in days: the newest 3 % within the last 7 days, the rest over two years
           CASE WHEN g > $1 * 0.97 THEN (($1 - g)::float / ($1 * 0.03)) * 7
                ELSE 7 + (($1 * 0.97 - g)::float / ($1 * 0.97)) * 723 END AS age,
           random() AS r_status, random() AS r_prio, random() AS r_tags, random() AS r_t1,
           random() AS r_t2, random() AS r_upd, random() AS r_chg, random() AS r_rep,
           random() AS r_grp, random() AS r_cat
    FROM generate_series(1, $1) AS g
), shaped AS (
    SELECT raw.*,
           CASE
             WHEN g <= $1 * 0.97 AND r_status < 0.9 THEN 'closed'
             WHEN r_cat < 0.15 THEN 'new'
             WHEN r_cat < 0.5 THEN 'open'
             WHEN r_cat < 0.75 THEN 'pending'
             WHEN r_cat < 0.85 THEN 'on_hold'
             ELSE 'solved' END AS category,
           $2::timestamptz - make_interval(secs => age * 86400) AS created
    FROM raw
)
INSERT INTO tickets (subject, requester_id, submitter_id, assignee_id, group_id, status_id,
    status_category, priority, priority_rank, channel, tags, created_at, updated_at,
    status_changed_at, solved_at, last_requester_reply_at, last_agent_reply_at,
    sla_next_breach_at, comment_count, is_public, search_document, public_search_document)
SELECT 'Ticket ' || g, $3 + (g % 1000), $3 + (g % 1000),
       CASE WHEN category = 'new' THEN NULL ELSE $4 + (g % 20) END,
       CASE WHEN r_grp < 0.9 THEN $5 + (g % 12) END,
       statuses.id, category,
       (ARRAY['low', 'normal', 'high', 'urgent'])[
           CASE WHEN r_prio < 0.2 THEN 1 WHEN r_prio < 0.8 THEN 2 WHEN r_prio < 0.95 THEN 3
                ELSE 4 END],
       CASE WHEN r_prio < 0.2 THEN 1 WHEN r_prio < 0.8 THEN 2 WHEN r_prio < 0.95 THEN 3
            ELSE 4 END,
       'email',
       CASE WHEN r_tags < 0.3 THEN ARRAY[]::varchar[]
            WHEN r_tags < 0.7 THEN ARRAY['tag' || floor(r_t1 * r_t1 * 200)::int]::varchar[]
            ELSE ARRAY['tag' || floor(r_t1 * r_t1 * 200)::int,
                       'tag' || (200 + floor(r_t2 * 200)::int)]::varchar[] END,
       created,
       created + (($2::timestamptz - created) * r_upd),
       created + (($2::timestamptz - created) * r_upd * r_chg),
       CASE WHEN category IN ('solved', 'closed')
            THEN created + (($2::timestamptz - created) * r_upd * r_chg) END,
       CASE WHEN r_rep < 0.6 THEN created + (($2::timestamptz - created) * r_upd * r_rep) END,
       CASE WHEN r_rep > 0.3 THEN created + (($2::timestamptz - created) * r_upd * r_chg) END,
       CASE WHEN category IN ('new', 'open') AND age < 7
            THEN $2::timestamptz + make_interval(hours => (r_t2 * 168 - 48)::int) END,
       3, true, ''::tsvector, ''::tsvector
FROM shaped JOIN statuses USING (category)
"""


def _rules(groups: list[int], statuses: dict[str, int]) -> list[dict[str, Any]]:
    """50 rules over every time field; each undoes its own conditions."""

    def since(field: str, hours: float, business: bool = False) -> dict[str, Any]:
        return {"field": field, "operator": "greater_than", "value": hours,
                "business_hours": business}  # fmt: skip

    def untagged(tag: str) -> dict[str, Any]:
        return {"field": "tags", "operator": "not_includes", "value": [tag]}

    def tag(name: str) -> list[dict[str, Any]]:
        return [{"action": "add_tags", "tags": [name]}]

    closed = [{"action": "set_status", "status_id": statuses["closed"]}]
    reopen = [{"action": "set_status", "status_id": statuses["open"]}]
    rules: list[dict[str, Any]] = []
    for i in range(6):
        rules.append({"all": [since("hours_since_pending", 24 + 24 * i, i % 2 == 1),
                              untagged(f"pending{i}")], "actions": tag(f"pending{i}")})  # fmt: skip
    for i in range(5):
        rules.append({"all": [since("hours_since_solved", 48 + 24 * i)],
                      "actions": closed})  # fmt: skip
    for i in range(5):
        rules.append({"all": [since("hours_since_on_hold", 72 + 24 * i, i % 2 == 0)],
                      "actions": reopen})  # fmt: skip
    for i in range(6):
        rules.append({"all": [since("hours_since_created", 24 * (i + 1)),
                              {"field": "status_category", "operator": "is", "value": "new"},
                              {"field": "priority", "operator": "is", "value": "low"}],
                      "actions": [{"action": "set_priority", "priority": "normal"}]})  # fmt: skip
    for i in range(6):
        rules.append({"all": [since("hours_since_updated", 12 * (i + 1)),
                              {"field": "status_category", "operator": "is", "value": "open"},
                              untagged(f"stale{i}")], "actions": tag(f"stale{i}")})  # fmt: skip
    for i in range(6):
        rules.append({"all": [since("hours_since_requester_replied", 24 * (i + 1), i == 3),
                              {"field": "status_category", "operator": "in",
                               "value": ["open", "pending"]},
                              untagged(f"quiet{i}")], "actions": tag(f"quiet{i}")})  # fmt: skip
    for i in range(6):
        rules.append({"all": [since("hours_since_agent_replied", 8 * (i + 1)),
                              {"field": "group_id", "operator": "is", "value": groups[i]},
                              untagged(f"waiting{i}")], "actions": tag(f"waiting{i}")})  # fmt: skip
    for i in range(5):
        rules.append({"all": [{"field": "hours_until_sla_due", "operator": "less_than",
                               "value": 4 * (i + 1)},
                              untagged(f"sla{i}")], "actions": tag(f"sla{i}")})  # fmt: skip
    for i in range(5):
        rules.append({"all": [since("hours_since_status_changed", 96 + 24 * i),
                              {"field": "tags", "operator": "includes_any",
                               "value": [f"tag{i}", f"tag{i + 5}"]},
                              untagged(f"old{i}")], "actions": tag(f"old{i}")})  # fmt: skip
    assert len(rules) == 50
    return [{"conditions": {"all": r["all"], "any": []}, "actions": r["actions"]} for r in rules]


async def load(url: str, scale: int, log: Any) -> None:
    conn = await asyncpg.connect(to_libpq_url(url))
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("UPDATE automations SET is_active = false")
        customer = await conn.fetchval(
            "INSERT INTO users (name, role) SELECT 'Customer ' || g, 'customer' "
            "FROM generate_series(1, 1000) g RETURNING id"
        )
        first_customer = await conn.fetchval("SELECT min(id) FROM users WHERE role = 'customer'")
        await conn.execute(
            "INSERT INTO users (name, role) SELECT 'Agent ' || g, 'agent' "
            "FROM generate_series(1, 20) g"
        )
        first_agent = await conn.fetchval("SELECT min(id) FROM users WHERE role = 'agent'")
        await conn.execute(
            "INSERT INTO groups (name) SELECT 'Group ' || g FROM generate_series(1, 12) g"
        )
        first_group = await conn.fetchval("SELECT min(id) FROM groups")
        assert customer is not None
        started = time.perf_counter()
        await conn.execute(LOAD_SQL, scale, NOW, first_customer, first_agent, first_group)
        log(f"loaded {scale:,} tickets in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE tickets")
        log(f"vacuum analyze in {time.perf_counter() - started:.1f} s")
        groups = [r["id"] for r in await conn.fetch("SELECT id FROM groups ORDER BY id")]
        statuses = {
            r["category"]: r["id"]
            for r in await conn.fetch("SELECT category, id FROM ticket_statuses WHERE is_default")
        }
        for position, rule in enumerate(_rules(groups, statuses)):
            AutomationRule.model_validate(rule)
            await conn.execute(
                "INSERT INTO automations (title, position, rule) VALUES ($1, $2, $3::jsonb)",
                f"Bench rule {position}",
                100 + position,
                json.dumps(rule),
            )
        await conn.execute(
            "CREATE TABLE bench_automations_dataset (scale bigint, format int); "
            f"INSERT INTO bench_automations_dataset VALUES ({scale}, {FORMAT})"
        )
    finally:
        await conn.close()


def _positional(automation: CompiledAutomation) -> tuple[str, list[Any]]:
    query = candidates_query(automation, NOW, after=None, limit=100)
    assert query is not None
    compiled = query.compile(dialect=asyncpg_dialect(), compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    return str(compiled), [params[name] for name in compiled.positiontup or ()]


async def run(scale: int, acts_per_rule: int, log: Any) -> None:
    pg = BenchPostgres()
    server = pg.start()
    name = f"bench_automations_{scale}"
    url = with_database(server, name)
    ready = False
    if await database_exists(server, name):
        conn = await asyncpg.connect(url)
        try:
            ready = bool(
                await conn.fetchval(
                    "SELECT to_regclass('bench_automations_dataset') IS NOT NULL "
                    "AND EXISTS (SELECT 1 FROM bench_automations_dataset WHERE format = $1)",
                    FORMAT,
                )
            )
        except asyncpg.PostgresError:
            ready = False
        finally:
            await conn.close()
    if not ready:
        await recreate_database(server, name)
        await asyncio.to_thread(migrations.upgrade, url)
        await load(url, scale, log)
    settings = Settings.model_validate(
        {"database_url": url, "data_dir": BENCH_DIR / ".data" / "automations"}
    )
    engine, sessionmaker = connect(url, settings=settings, pool_size=4)
    conn = await asyncpg.connect(url)
    try:
        tickets = await conn.fetchval("SELECT count(*) FROM tickets")
        open_ = await conn.fetchval(
            "SELECT count(*) FROM tickets WHERE status_category <> 'closed'"
        )
        log(f"tickets: {tickets:,} ({open_:,} not closed); now = {NOW.isoformat()}")
        async with sessionmaker() as session:
            automations = await load_automations(session)
        log(f"active automations: {len(automations)}")
        seq_scans = 0
        timings = []
        for automation in automations:
            sql, params = _positional(automation)
            plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params)
            lines = [r[0] for r in plan]
            scans_tickets_seq = any("Seq Scan on tickets" in line for line in lines)
            seq_scans += scans_tickets_seq
            log(f"\n--- {automation.title}: {automation.rule.model_dump_json()}")
            log("\n".join(lines))
            log("    index scan" if not scans_tickets_seq else "    SEQ SCAN ON TICKETS")
            started = time.perf_counter()
            rows = await conn.fetch(sql, *params)
            timings.append((time.perf_counter() - started, len(rows), automation.title))
        total = sum(t for t, _, _ in timings)
        log(
            f"\ncandidate queries, 50 rules: {total * 1000:.1f} ms in all, "
            f"slowest {max(timings)[0] * 1000:.1f} ms ({max(timings)[2]}), "
            f"{sum(n for _, n, _ in timings):,} candidates on the first pages; "
            f"plans with a Seq Scan on tickets: {seq_scans}"
        )
        started = time.perf_counter()
        result = await sweep(sessionmaker, NOW, settings=settings, max_per_rule=acts_per_rule)
        elapsed = time.perf_counter() - started
        acted = result.count(Outcome.acted)
        log(
            f"sweep acting on at most {acts_per_rule} tickets per rule: {elapsed:.2f} s, "
            f"acted on {acted}, stale {result.count(Outcome.stale)}, "
            f"locked {result.count(Outcome.locked)}, failed {result.count(Outcome.failed)}; "
            f"{acted / elapsed:.1f} tickets acted on per second"
        )
        started = time.perf_counter()
        async with sessionmaker() as session:
            automations = await load_automations(session)
        for automation in automations:
            sql, params = _positional(automation)
            await conn.fetch(sql, *params)
        again = (time.perf_counter() - started) * 1000
        log(f"candidate queries again after the sweep: {again:.1f} ms")
    finally:
        await conn.close()
        await engine.dispose()
        pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--acts-per-rule", type=int, default=20)
    args = parser.parse_args()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    out = Path(BENCH_DIR / "results" / f"{stamp}-automations.txt")
    lines: list[str] = []

    def log(message: str) -> None:
        print(message, flush=True)
        lines.append(message)

    try:
        asyncio.run(run(args.scale, args.acts_per_rule, log))
    finally:
        out.write_text("\n".join(lines) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()

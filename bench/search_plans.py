"""EXPLAIN (ANALYZE, BUFFERS) of the service's search query and of two rewrites, on a loaded
bench database: evidence for how to fix search at scale (bench/README.md, "Search").

    python -m bench.search_plans [--scale 1000000] [--output DIR]
"""

import argparse
import asyncio
from pathlib import Path

import asyncpg

from bench.pg import DATA_DIR, BenchPostgres, with_database

COLUMNS = "tickets.id, tickets.subject, tickets.updated_at"
ORDER = "ORDER BY tickets.updated_at DESC, tickets.id DESC LIMIT 51"
VARIANTS = {
    # What the service sends today (its column list shortened; the plan is the same).
    "current_in_subquery": (
        f"SELECT {COLUMNS} FROM tickets WHERE (tickets.subject_search @@ "
        "websearch_to_tsquery('simple', $1)) OR tickets.id IN (SELECT ticket_comments.ticket_id "
        "FROM ticket_comments WHERE ticket_comments.search @@ websearch_to_tsquery('simple', $1)) "
        f"{ORDER}"
    ),
    "exists": (
        f"SELECT {COLUMNS} FROM tickets WHERE tickets.subject_search @@ "
        "websearch_to_tsquery('simple', $1) OR EXISTS (SELECT 1 FROM ticket_comments c "
        "WHERE c.ticket_id = tickets.id AND c.search @@ websearch_to_tsquery('simple', $1)) "
        f"{ORDER}"
    ),
    "union_of_matches": (
        f"SELECT {COLUMNS} FROM tickets WHERE tickets.id IN (SELECT id FROM tickets "
        "WHERE subject_search @@ websearch_to_tsquery('simple', $1) UNION SELECT ticket_id "
        "FROM ticket_comments WHERE search @@ websearch_to_tsquery('simple', $1)) "
        f"{ORDER}"
    ),
    # The proposed fix, emulated in a side table: one document per ticket (subject and every
    # comment), so the match is a filter on the ticket's own row and the planner may walk
    # updated_at for common words or scan the GIN index for rare ones.
    "ticket_document": (
        "SELECT d.id, d.updated_at FROM bench_ticket_search d "
        "WHERE d.doc @@ websearch_to_tsquery('simple', $1) "
        "ORDER BY d.updated_at DESC, d.id DESC LIMIT 51"
    ),
}
DOCUMENT_SETUP = [
    "CREATE TABLE IF NOT EXISTS bench_ticket_search "
    "(id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, doc tsvector NOT NULL)",
    "INSERT INTO bench_ticket_search SELECT t.id, t.updated_at, "
    "t.subject_search || coalesce(c.doc, ''::tsvector) FROM tickets t LEFT JOIN "
    "(SELECT ticket_id, to_tsvector('simple', string_agg(body, ' ')) AS doc "
    "FROM ticket_comments GROUP BY ticket_id) c ON c.ticket_id = t.id "
    "WHERE NOT EXISTS (SELECT 1 FROM bench_ticket_search)",
    "CREATE INDEX IF NOT EXISTS bench_ticket_search_doc ON bench_ticket_search USING gin (doc)",
    "CREATE INDEX IF NOT EXISTS bench_ticket_search_updated "
    "ON bench_ticket_search (updated_at, id)",
    "VACUUM ANALYZE bench_ticket_search",
]
# Common words of the generated text, a two-word query, and a word no ticket contains.
QUERIES = ["printer", "licenza", "vpn timeout", "пароль", "zanzibar"]


async def explain_all(url: str) -> tuple[dict[str, dict[str, float]], str]:
    conn = await asyncpg.connect(url)
    timings: dict[str, dict[str, float]] = {}
    lines: list[str] = []
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in DOCUMENT_SETUP:
            await conn.execute(statement)
        await conn.execute("SET statement_timeout = '30s'")
        for q in QUERIES:
            for name, sql in VARIANTS.items():
                await conn.fetch(sql, q)  # warm
                plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", q)
                text = "\n".join(r[0] for r in plan)
                ms = float(text.rsplit("Execution Time: ", 1)[1].split(" ms")[0])
                timings.setdefault(q, {})[name] = ms
                lines += [f"=== q={q!r} variant={name}: {ms} ms", sql, text, ""]
    finally:
        await conn.close()
    return timings, "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    pg = BenchPostgres(args.data_dir)
    server = pg.start()
    try:
        url = with_database(server, f"helpdesk_bench_{args.scale}")
        timings, plans = asyncio.run(explain_all(url))
    finally:
        pg.stop()
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "search_variants.txt").write_text(plans)
    print("query".ljust(14), *(name.rjust(22) for name in VARIANTS))
    for q, row in timings.items():
        print(q.ljust(14), *(f"{row[name]:>19.1f} ms" for name in VARIANTS))


if __name__ == "__main__":
    main()

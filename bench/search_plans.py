"""EXPLAIN (ANALYZE, BUFFERS) of the service's search query and of rewrites, on a loaded bench
database: evidence for how search behaves at scale (bench/README.md, "Search").

    python -m bench.search_plans [--scale 1000000] [--output DIR] [--with-old]

The service matches `tickets.search_document` (subject and every comment, one tsvector per
ticket, migration 0006) and walks `updated_at` for the newest 51. Beside it: the same match
forced through the GIN index first (what helps words that match few or no tickets), and with
--with-old the query it replaced (`subject_search @@ q OR id IN (comments matching q)`), its
per-comment tsvector computed inline since the column is gone: a sequential scan computing
to_tsvector of every comment, tens of seconds per query at 1M tickets.
"""

import argparse
import asyncio
from pathlib import Path

import asyncpg

from bench.pg import DATA_DIR, BenchPostgres, with_database

COLUMNS = "tickets.id, tickets.subject, tickets.updated_at"
ORDER = "ORDER BY tickets.updated_at DESC, tickets.id DESC LIMIT 51"
MATCH = "tickets.search_document @@ websearch_to_tsquery('simple', $1)"
VARIANTS = {
    # What the service sends (its column list shortened; the plan is the same).
    "document": f"SELECT {COLUMNS} FROM tickets WHERE {MATCH} {ORDER}",
    # The GIN index asked first, then the newest 51 of what it found.
    "document_gin_first": (
        f"WITH found AS MATERIALIZED (SELECT {COLUMNS} FROM tickets WHERE {MATCH}) "
        "SELECT * FROM found tickets " + ORDER
    ),
}
OLD = {
    "old_per_comment": (
        f"SELECT {COLUMNS} FROM tickets WHERE tickets.subject_search @@ "
        "websearch_to_tsquery('simple', $1) OR tickets.id IN (SELECT ticket_comments.ticket_id "
        "FROM ticket_comments WHERE to_tsvector('simple', ticket_comments.body) @@ "
        f"websearch_to_tsquery('simple', $1)) {ORDER}"
    ),
}
# Common words of the generated text, a rare one, a two-word query, and a word no ticket has.
QUERIES = ["printer", "licenza", "vpn timeout", "пароль", "zanzibar"]


async def explain_all(
    url: str, variants: dict[str, str]
) -> tuple[dict[str, dict[str, float]], str]:
    conn = await asyncpg.connect(url)
    timings: dict[str, dict[str, float]] = {}
    lines: list[str] = []
    try:
        await conn.execute("SET statement_timeout = '120s'")
        for q in QUERIES:
            for name, sql in variants.items():
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
    parser.add_argument("--with-old", action="store_true", help="the per-comment query too")
    args = parser.parse_args()
    variants = {**VARIANTS, **(OLD if args.with_old else {})}
    pg = BenchPostgres(args.data_dir)
    server = pg.start()
    try:
        url = with_database(server, f"helpdesk_bench_{args.scale}")
        timings, plans = asyncio.run(explain_all(url, variants))
    finally:
        pg.stop()
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "search_variants.txt").write_text(plans)
    print("query".ljust(14), *(name.rjust(22) for name in variants))
    for q, row in timings.items():
        print(q.ljust(14), *(f"{row[name]:>19.1f} ms" for name in variants))


if __name__ == "__main__":
    main()

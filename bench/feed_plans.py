"""EXPLAIN (ANALYZE, BUFFERS) of the event feed as the service builds it, at a million events:
for an admin, and for group-restricted agents whose groups hold a small and a large share of
the tickets (issue #12: "the feed stays keyset-paged and fast at a million events").

    python -m bench.feed_plans [--tickets 200000] [--events 1000000] [--output DIR]

It loads its own database (`helpdesk_feed_<events>` in the bench's PostgreSQL, reused when
present): `generate` makes the tickets, then events are inserted by SQL, five per ticket in
ticket order, in transactions of 2,000 (`tx_id` as the service's default would give them), each
with a payload of the real size (~1 kB). The statements are `events.feed.visible_events_after`
compiled by SQLAlchemy's asyncpg dialect with the principal's constants, as a request sends them.
"""

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from bench.generate import generate
from bench.pg import (
    DATA_DIR,
    BenchPostgres,
    database_exists,
    migrate_and_seed,
    recreate_database,
    with_database,
)
from helpdesk_api.core.auth import Principal
from helpdesk_api.events.feed import Position, visible_events_after
from helpdesk_api.models import Role

PAGE = 100
EVENTS_PER_TICKET = 5
TX_SIZE = 2_000

# Five per ticket: what creating, answering, moving and assigning one leaves in the log.
_INSERT_EVENTS = """
INSERT INTO events (tx_id, type, occurred_at, actor_id, actor_via, ticket_id, is_public, data)
SELECT 1 + (n / $3), (ARRAY['ticket.created', 'comment.created', 'ticket.updated',
                            'ticket.status_changed', 'ticket.assigned'])[1 + n % 5],
       now(), NULL, 'api', t.id, n % 5 IN (0, 1, 3),
       jsonb_build_object('ticket', jsonb_build_object('id', t.id, 'subject', t.subject,
                          'padding', repeat('x', 900)))
FROM (SELECT id, subject, row_number() OVER (ORDER BY id) - 1 AS k FROM tickets
      WHERE id BETWEEN $1 AND $2) t,
     generate_series(0, 4) s,
     LATERAL (SELECT t.k * 5 + s AS n) x
"""


async def load(url: str, tickets: int, events: int) -> None:
    await migrate_and_seed(url)
    await generate(url, tickets)
    conn = await asyncpg.connect(url)
    try:
        low, high = await conn.fetchrow("SELECT min(id), max(id) FROM tickets")
        wanted = events // EVENTS_PER_TICKET
        step = 20_000
        for start in range(low, min(high, low + wanted - 1) + 1, step):
            end = min(start + step - 1, low + wanted - 1)
            await conn.execute(_INSERT_EVENTS, start, end, TX_SIZE)
        # Every inserted tx_id must lie below the horizon, as committed events do.
        top = await conn.fetchval("SELECT max(tx_id) FROM events")
        while await conn.fetchval("SELECT pg_current_xact_id()::text::bigint") <= top:
            pass
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _principals(conn: asyncpg.Connection) -> dict[str, Principal]:
    shares = await conn.fetch(
        "SELECT group_id, count(*) AS n FROM tickets WHERE group_id IS NOT NULL "
        "GROUP BY group_id ORDER BY n"
    )
    total = await conn.fetchval("SELECT count(*) FROM tickets")
    smallest = shares[0]["group_id"]
    large = [r["group_id"] for r in shares[-3:]]
    agent = await conn.fetchval(
        "INSERT INTO users (name, role, ticket_access) VALUES ('Feed agent', 'agent', 'groups') "
        "RETURNING id"
    )
    print(
        f"groups: smallest {shares[0]['n'] / total:.1%} of tickets; "
        f"three largest {sum(r['n'] for r in shares[-3:]) / total:.1%}"
    )

    def agent_of(groups: list[int]) -> Principal:
        return Principal(agent, Role.agent, "Feed agent", "groups", 0, group_ids=tuple(groups))

    return {
        "admin": Principal(1, Role.admin, "Admin", "all", 0),
        "agent_small_groups": agent_of([smallest]),
        "agent_large_groups": agent_of(large),
    }


async def explain(url: str) -> tuple[list[dict[str, Any]], str]:
    conn = await asyncpg.connect(url)
    results: list[dict[str, Any]] = []
    text_out: list[str] = []
    try:
        async with conn.transaction():
            principals = await _principals(conn)
            last_tx, last_id = await conn.fetchrow(
                "SELECT tx_id, id FROM events ORDER BY tx_id DESC, id DESC LIMIT 1"
            )
            middle = await conn.fetchrow(
                "SELECT tx_id, id FROM events ORDER BY tx_id, id OFFSET "
                "(SELECT count(*) / 2 FROM events) LIMIT 1"
            )
            positions = {
                "from_start": Position(),
                "from_middle": Position(middle["tx_id"], middle["id"]),
                "at_head": Position(last_tx, last_id),
            }
            for who, principal in principals.items():
                for where, position in positions.items():
                    statement = visible_events_after(principal, position).limit(PAGE)
                    compiled = statement.compile(
                        dialect=asyncpg_dialect.dialect(),
                        compile_kwargs={"render_postcompile": True},
                    )
                    params = [compiled.params[k] for k in compiled.positiontup or []]
                    rows = len(await conn.fetch(compiled.string, *params))  # warm
                    started = time.perf_counter()
                    await conn.fetch(compiled.string, *params)
                    wall = (time.perf_counter() - started) * 1000
                    plan = await conn.fetch(
                        f"EXPLAIN (ANALYZE, BUFFERS) {compiled.string}", *params
                    )
                    text = "\n".join(r[0] for r in plan)
                    ms = float(text.rsplit("Execution Time: ", 1)[1].split(" ms")[0])
                    results.append({
                        "principal": who, "position": where, "rows": rows,
                        "execution_ms": ms, "wall_ms": round(wall, 2),
                        "seq_scan": "Seq Scan" in text,
                    })  # fmt: skip
                    text_out += [f"=== {who} {where}: {rows} rows, {ms} ms", text, ""]
            raise _Rollback  # the agent inserted above is not kept
    except _Rollback:
        pass
    finally:
        await conn.close()
    return results, "\n".join(text_out)


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    pg = BenchPostgres(args.data_dir)
    server = pg.start()
    try:
        name = f"helpdesk_feed_{args.events}"
        url = with_database(server, name)
        if not asyncio.run(database_exists(server, name)):
            asyncio.run(recreate_database(server, name))
            started = time.perf_counter()
            asyncio.run(load(url, args.tickets, args.events))
            print(f"loaded in {time.perf_counter() - started:.0f} s")
        results, plans = asyncio.run(explain(url))
    finally:
        pg.stop()
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "feed_plans.txt").write_text(plans)
    print(f"{'principal':20} {'position':12} {'rows':>5} {'exec ms':>9} {'wall ms':>9} seq scan")
    for r in results:
        print(
            f"{r['principal']:20} {r['position']:12} {r['rows']:>5} {r['execution_ms']:>9.2f} "
            f"{r['wall_ms']:>9.2f} {r['seq_scan']}"
        )


if __name__ == "__main__":
    main()

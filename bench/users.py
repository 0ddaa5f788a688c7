"""Customer search (`GET /v1/users?q=`) at scale: N customers, each with an e-mail and a
phone identity.

```sh
PYTHONPATH=src python -m bench.users --scale 100000 --seconds 10   # loads once, then reuses
PYTHONPATH=src python -m bench.users                                # 1,000,000 customers
```

Its own database (``bench_users_<N>``) on the bench's PostgreSQL (``bench/pg.py``), loaded
with INSERT … SELECT generate_series (no client round trip per row): names are one of 60
first names and one of 60 surnames with a three-letter tail drawn from the row number
(``Maria Rossiko``), so a surname prefix matches about 1/60 of the users and a full name a
few hundred at 1M; e-mails ``<first>.<surname><n>@example.com``, phones ``+39333<n>``. The
search indexes of migration 0016 are built after the load.

It prints, and writes to ``bench/results/<UTC>-users.txt``:

1. EXPLAIN (ANALYZE, BUFFERS) of the service's statement for each kind of query;
2. per kind (a name prefix, an e-mail prefix, a phone prefix, a misspelt full name), the
   service through ``helpdesk-api serve`` (one worker, admin token, ``limit=20``) at
   ``--clients`` concurrent clients: p50/p95/p99 and requests/s; against it, the floor: the
   same two statements (the ranked page, then its identities, as ``selectinload`` reads
   them), compiled from the service's own code, sent directly on as many asyncpg
   connections.
"""

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from bench.kb import Call, measure
from bench.measure import serve, stop_process
from bench.pg import (
    ADMIN_TOKEN,
    BENCH_DIR,
    BenchPostgres,
    database_exists,
    migrate_and_seed,
    recreate_database,
    with_database,
)
from helpdesk_api.models import User, UserIdentity
from helpdesk_api.users import search

FORMAT = 2
LIMIT = 20
FIRST = [
    "maria",
    "anna",
    "giulia",
    "sara",
    "laura",
    "elena",
    "chiara",
    "francesca",
    "paola",
    "marta",
    "olga",
    "irina",
    "natalia",
    "daria",
    "sofia",
    "eva",
    "ilona",
    "katalin",
    "zsofia",
    "reka",
    "ana",
    "ioana",
    "andreea",
    "mirela",
    "mihaela",
    "john",
    "james",
    "robert",
    "michael",
    "william",
    "david",
    "richard",
    "joseph",
    "thomas",
    "charles",
    "marco",
    "luca",
    "giuseppe",
    "antonio",
    "paolo",
    "ivan",
    "sergei",
    "dmitri",
    "alexei",
    "nikolai",
    "laszlo",
    "istvan",
    "gabor",
    "zoltan",
    "peter",
    "andrei",
    "mihai",
    "stefan",
    "florin",
    "adrian",
    "george",
    "victor",
    "tom",
    "sam",
    "ben",
]
LAST = [
    "rossi",
    "russo",
    "ferrari",
    "esposito",
    "bianchi",
    "romano",
    "colombo",
    "ricci",
    "marino",
    "greco",
    "bruno",
    "gallo",
    "conti",
    "deluca",
    "mancini",
    "costa",
    "giordano",
    "rizzo",
    "lombardi",
    "moretti",
    "ivanov",
    "smirnov",
    "kuznetsov",
    "popov",
    "vasiliev",
    "petrov",
    "sokolov",
    "mikhailov",
    "novikov",
    "fedorov",
    "nagy",
    "kovacs",
    "toth",
    "szabo",
    "horvath",
    "varga",
    "kiss",
    "molnar",
    "nemeth",
    "farkas",
    "popescu",
    "ionescu",
    "popa",
    "pop",
    "radu",
    "dumitru",
    "stan",
    "stoica",
    "gheorghe",
    "matei",
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "wilson",
    "taylor",
]
# (label, q): what an agent types.
QUERIES = [
    ("name prefix", "maria ross"),
    ("email prefix", "maria.rossi12"),
    ("phone prefix", "+39 333 0012"),
    ("fuzzy name", "giula bianchu"),
]

LOAD_USERS = """
INSERT INTO users (name, role, is_active, created_at, updated_at)
SELECT initcap(($1::text[])[1 + g % $4]) || ' ' || initcap(($2::text[])[1 + (g / $4) % $5])
       || translate(substr(md5(g::text), 1, 3), '0123456789abcdef', 'aeioubcdfgklmnpr'),
       'customer', true, now(), now()
FROM generate_series(1, $3) g
"""
LOAD_IDENTITIES = """
INSERT INTO user_identities (user_id, kind, value, is_primary, verified)
SELECT u.id, 'email', lower(replace(u.name, ' ', '.')) || u.id || '@example.com', true, true
FROM users u WHERE u.role = 'customer'
UNION ALL
SELECT u.id, 'phone', '+39333' || lpad(u.id::text, 7, '0'), false, false
FROM users u WHERE u.role = 'customer'
"""
SEARCH_INDEXES = {
    "ix_users_name_prefix": "ON users (lower(name) text_pattern_ops)",
    "ix_users_name_trgm": "ON users USING gin (lower(name) gin_trgm_ops)",
    "ix_user_identities_value_prefix": "ON user_identities (value text_pattern_ops)",
    "ix_user_identities_value_trgm": "ON user_identities USING gin (value gin_trgm_ops)",
}


async def load(url: str, scale: int) -> None:
    await migrate_and_seed(url)
    conn = await asyncpg.connect(url)
    try:
        for name in SEARCH_INDEXES:
            await conn.execute(f"DROP INDEX {name}")
        await conn.execute(LOAD_USERS, FIRST, LAST, scale, len(FIRST), len(LAST))
        await conn.execute(LOAD_IDENTITIES)
        for name, definition in SEARCH_INDEXES.items():
            await conn.execute(f"CREATE INDEX {name} {definition}")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def _sql(statement: Any) -> str:
    compiled = statement.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled).replace("%%", "%")


def page_sql(q: str, *, fuzzy: bool) -> str:
    """The service's first page for ``q`` (``users.search.list_users``, as ``paginate``
    orders and limits it): from the prefix matches alone, or (when those do not fill the
    page) with the trigram ones too."""
    text, phone = search._search_terms(q)
    candidates = search._candidates(text, phone, fuzzy=fuzzy)
    score = candidates.c.score
    statement = (
        select(User)
        .join(candidates, candidates.c.id == User.id)
        .add_columns(score)
        .order_by(score.desc(), User.id.asc())
        .limit(LIMIT + 1)
    )
    return _sql(statement)


def identities_sql(ids: list[int]) -> str:
    return _sql(select(UserIdentity).where(UserIdentity.user_id.in_(ids or [0])))


async def explain(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    lines: list[str] = []
    try:
        for label, q in QUERIES:
            for fuzzy in (False, True):
                lines.append(f"\n-- {label}: q={q!r}, {'all' if fuzzy else 'prefix'} branches")
                rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + page_sql(q, fuzzy=fuzzy))
                lines.extend(r[0] for r in rows)
    finally:
        await conn.close()
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--reload", action="store_true", help="load the data again")
    args = parser.parse_args()

    pg = BenchPostgres()
    server_url = pg.start()
    name = f"bench_users_{args.scale}"
    url = with_database(server_url, name)
    out: list[str] = []
    try:
        if args.reload or not await database_exists(server_url, name):
            await recreate_database(server_url, name)
            started = datetime.now(UTC)
            await load(url, args.scale)
            print(f"loaded in {(datetime.now(UTC) - started).total_seconds():.0f} s", flush=True)
        with open("/proc/loadavg") as f:  # noqa: ASYNC230 (once, before measuring)
            load_average = " ".join(f.read().split()[:3])
        out.append(f"users bench format {FORMAT}: {args.scale} customers, {args.clients} "
                   f"clients, {args.seconds:.0f} s each, limit {LIMIT}, "
                   f"load average {load_average}")  # fmt: skip
        out.extend(await explain(url))
        service = serve(url, args.port, workers=1)
        http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{args.port}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            limits=httpx.Limits(max_connections=args.clients),
            timeout=60,
        )
        pool = await asyncpg.create_pool(url, min_size=args.clients, max_size=args.clients)
        try:
            for label, q in QUERIES:
                prefix_page, full_page = page_sql(q, fuzzy=False), page_sql(q, fuzzy=True)

                async def via_service(n: int, q: str = q) -> None:
                    response = await http.get("/v1/users", params={"q": q, "limit": LIMIT})
                    assert response.status_code == 200, response.text

                async def via_floor(
                    n: int, prefix_page: str = prefix_page, full_page: str = full_page
                ) -> None:
                    async with pool.acquire() as conn, conn.transaction():
                        rows = await conn.fetch(prefix_page)
                        if len(rows) <= LIMIT:
                            rows = await conn.fetch(full_page)
                        await conn.fetch(identities_sql([r["id"] for r in rows[:LIMIT]]))

                calls: list[tuple[str, Call]] = [("service", via_service), ("floor", via_floor)]
                for kind, call in calls:
                    await measure(args.clients, min(2.0, args.seconds), call)  # warm up
                    result = await measure(args.clients, args.seconds, call)
                    out.append(
                        f"{label:13} {kind:8} n={result['requests']:6} "
                        f"rps={result['rps']:7.1f} p50={result['p50']:7.1f} ms "
                        f"p95={result['p95']:7.1f} ms p99={result['p99']:7.1f} ms"
                    )
                    print(out[-1], flush=True)
        finally:
            await http.aclose()
            await pool.close()
            stop_process(service)
    finally:
        pg.stop()
    text = "\n".join(out) + "\n"
    print(text)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    path = Path(BENCH_DIR / "results" / f"{stamp}-users.txt")
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)  # noqa: ASYNC240 (once, at the end)
    print(f"written to {path}")


if __name__ == "__main__":
    asyncio.run(main())

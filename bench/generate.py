"""Load N tickets with ~3 comments each, by COPY, with realistic skew.

    python -m bench.generate --url postgresql://... --scale 1000000

Tickets carry their derived columns (status_category copied from the status, priority_rank
from the priority, the search documents built by the database's own functions from the
subject and the comments, sla_next_breach_at from the SLA clocks) and tag_counts is rebuilt
from them; the generated subject_search column is left to PostgreSQL. Recent tickets carry
SLA policies and clocks (bench/sla_data.py). Secondary indexes are dropped during the load and
rebuilt after it; triggers are skipped (session_replication_role = replica): every id written
is one this script created, and the search documents the comment triggers would keep are
written with the tickets instead.
"""

import argparse
import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.pg import database_exists, migrate_and_seed, recreate_database, with_database
from bench.sla_data import METRIC_COLUMNS, STATE_COLUMNS, SlaSetup
from bench.words import LANGUAGES, WORDS
from helpdesk_api.core.auth import hash_token
from helpdesk_api.sla.matching import TicketFacts

MARKER_TABLE = "bench_dataset"  # a row here says the load finished; the bench reuses it
# What a finished load contains; a dataset of another format is loaded anew. 2: search
# documents on tickets (migration 0006) and SLA policies with clocks. Loads from before
# format 2 have no format column and count as 1.
DATASET_FORMAT = 2
AGENT_TOKEN_PREFIX = "hd_bench-agent-"

LANGUAGE_WEIGHTS = [40, 15, 20, 10, 15]
# (category, weight for recent tickets, weight for old ones): old work is mostly closed.
STATUS_MIX = {
    "new": (12, 0.1),
    "open": (35, 1.5),
    "pending": (15, 0.5),
    "on_hold": (5, 0.4),
    "solved": (25, 8),
    "closed": (8, 89.5),
}
PRIORITIES = (["low", "normal", "high", "urgent"], [20, 60, 15, 5])
PRIORITY_RANK = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
CHANNELS = (["email", "web", "api", "chat", "phone", "telegram", "social", "alert"],
            [55, 20, 10, 7, 4, 2, 1, 1])  # fmt: skip
TYPES = ([None, "question", "incident", "problem", "task"], [20, 40, 30, 5, 5])
TAG_VOCABULARY = [f"{w}" for w in WORDS["en"][:40]] + [f"tag-{i}" for i in range(160)]
YEARS = 3


@dataclass
class Shape:
    """How many of each thing N tickets come with."""

    tickets: int
    customers: int = 0
    organizations: int = 0
    agents: int = 0
    groups: int = 12
    ids: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.customers = max(50, self.tickets // 10)
        self.organizations = max(5, self.tickets // 1000)
        self.agents = min(200, max(10, self.tickets // 5000))


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1.0 / (i + 1) ** s for i in range(n)]


def _text(rng: random.Random, lang: str, words: int) -> str:
    return " ".join(rng.choices(WORDS[lang], k=words)).capitalize()


async def _drop_secondary_indexes(conn: asyncpg.Connection, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.tablename = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conname = i.indexname)",
        table,
    )
    for row in rows:
        await conn.execute(f'DROP INDEX "{row["indexname"]}"')
    return [row["indexdef"] for row in rows]


async def _people(conn: asyncpg.Connection, shape: Shape, rng: random.Random) -> None:
    now = datetime.now(UTC)
    org_ids = [
        r["id"]
        for r in await conn.fetch(
            "INSERT INTO organizations (name) SELECT 'Organisation ' || g "
            "FROM generate_series(1, $1) g RETURNING id",
            shape.organizations,
        )
    ]
    group_ids = [
        r["id"]
        for r in await conn.fetch(
            "INSERT INTO groups (name) SELECT 'Group ' || g FROM generate_series(1, $1) g "
            "RETURNING id",
            shape.groups,
        )
    ]
    agent_ids = [
        r["id"]
        for r in await conn.fetch(
            "INSERT INTO users (name, role) SELECT 'Agent ' || g, 'agent' "
            "FROM generate_series(1, $1) g RETURNING id",
            shape.agents,
        )
    ]
    # Each agent in one group (two for a fifth of them).
    members: dict[int, list[int]] = {g: [] for g in group_ids}
    memberships = []
    for i, agent in enumerate(agent_ids):
        groups = {group_ids[i % len(group_ids)]}
        if i % 5 == 0:
            groups.add(rng.choice(group_ids))
        for g in groups:
            members[g].append(agent)
            memberships.append((g, agent, now))
    await conn.copy_records_to_table(
        "group_memberships", records=memberships, columns=["group_id", "user_id", "created_at"]
    )
    first_customer = await conn.fetchval("SELECT nextval('users_id_seq')")
    customers = [
        (first_customer + i, f"Customer {i}", "customer",
         rng.choice(org_ids) if rng.random() < 0.7 else None, now, now)
        for i in range(shape.customers)
    ]  # fmt: skip
    await conn.copy_records_to_table(
        "users",
        records=customers,
        columns=["id", "name", "role", "organization_id", "created_at", "updated_at"],
    )
    await conn.execute("SELECT setval('users_id_seq', (SELECT max(id) FROM users))")
    identities = [(c[0], "email", f"customer{i}@example.com", True, now)
                  for i, c in enumerate(customers)]  # fmt: skip
    identities += [(a, "email", f"agent{i}@example.com", True, now)
                   for i, a in enumerate(agent_ids)]  # fmt: skip
    await conn.copy_records_to_table(
        "user_identities",
        records=identities,
        columns=["user_id", "kind", "value", "is_primary", "created_at"],
    )
    # Agents get tokens too, so a bench can act as an agent with restricted access later.
    await conn.copy_records_to_table(
        "api_tokens",
        records=[(a, hash_token(f"{AGENT_TOKEN_PREFIX}{a}"), "bench") for a in agent_ids],
        columns=["user_id", "token_hash", "name"],
    )
    shape.ids.update(
        orgs=org_ids,
        groups=group_ids,
        agents=agent_ids,
        members=members,
        customers=[(c[0], c[3]) for c in customers],
    )


@dataclass
class _Batch:
    tickets: list[tuple[Any, ...]] = field(default_factory=list)
    comments: list[tuple[Any, ...]] = field(default_factory=list)
    sla_states: list[tuple[Any, ...]] = field(default_factory=list)
    sla_metrics: list[tuple[Any, ...]] = field(default_factory=list)


def _ticket_rows(
    shape: Shape,
    rng: random.Random,
    statuses: dict[str, int],
    first_id: int,
    sla: SlaSetup,
) -> Iterator[_Batch]:
    """One batch per ticket: its row, its comments, its SLA rows."""
    now = sla.now
    categories = list(STATUS_MIX)
    recent_w = [STATUS_MIX[c][0] for c in categories]
    old_w = [STATUS_MIX[c][1] for c in categories]
    customers = shape.ids["customers"]
    customer_w = _zipf_weights(len(customers), 0.8)
    groups = shape.ids["groups"]
    group_w = _zipf_weights(len(groups), 0.7)
    members = shape.ids["members"]
    tag_w = _zipf_weights(len(TAG_VOCABULARY), 1.0)
    span = timedelta(days=365 * YEARS).total_seconds()
    # Draw in bulk: per-call overhead of random.choices dominates otherwise.
    n = shape.tickets
    requester_pick = rng.choices(range(len(customers)), weights=customer_w, k=n)
    group_pick = rng.choices(groups, weights=group_w, k=n)
    priority_pick = rng.choices(PRIORITIES[0], weights=PRIORITIES[1], k=n)
    channel_pick = rng.choices(CHANNELS[0], weights=CHANNELS[1], k=n)
    type_pick = rng.choices(TYPES[0], weights=TYPES[1], k=n)
    lang_pick = rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS, k=n)
    comment_id = 0
    for i in range(n):
        ticket_id = first_id + i
        # Ids ascend with creation time; the newest 3% are "recent".
        age = (n - i) / n
        created = now - timedelta(seconds=age * span + rng.random() * 60)
        category = rng.choices(categories, weights=recent_w if age < 0.03 else old_w)[0]
        requester_id, org_id = customers[requester_pick[i]]
        group_id = group_pick[i] if rng.random() < 0.9 else None
        pool = members.get(group_id) or shape.ids["agents"]
        assignee = None if category == "new" or rng.random() < 0.05 else rng.choice(pool)
        tags = sorted(set(rng.choices(TAG_VOCABULARY, weights=tag_w, k=rng.randint(0, 3))))
        lang = lang_pick[i]
        comments = max(1, min(6, round(rng.gauss(3, 1.2))))
        life = timedelta(hours=rng.expovariate(1 / 48))
        updated = min(now, created + life)
        solved = updated if category in ("solved", "closed") else None
        priority = priority_pick[i]
        subject = _text(rng, lang, rng.randint(3, 8))
        batch = _Batch()
        step = (updated - created) / comments
        first_reply = None
        for c in range(comments):
            comment_id += 1
            author = requester_id if c % 2 == 0 or assignee is None else assignee
            at = created + step * c
            if author != requester_id and first_reply is None:
                first_reply = at
            batch.comments.append(
                (comment_id, ticket_id, author, _text(rng, lang, rng.randint(8, 60)),
                 c % 4 != 3, channel_pick[i] if c == 0 else "api", at)
            )  # fmt: skip
        facts = TicketFacts(
            priority=priority, group_id=group_id, organization_id=org_id,
            tags=frozenset(tags), channel=channel_pick[i], type=type_pick[i],
        )  # fmt: skip
        clocks = sla.ticket(
            ticket_id, facts, category=category, created=created, updated=updated,
            first_reply=first_reply, solved=solved,
        )  # fmt: skip
        if clocks is not None:
            batch.sla_states.append(clocks.state)
            batch.sla_metrics.extend(clocks.metrics)
        batch.tickets.append(
            (ticket_id, subject, requester_id, requester_id, assignee, group_id, org_id,
             statuses[category], category, priority, PRIORITY_RANK[priority], type_pick[i],
             channel_pick[i], tags, created, updated, updated, solved, first_reply,
             batch.comments[-1][6], comments, 1,
             clocks.next_breach_at if clocks is not None else None)
        )  # fmt: skip
        yield batch


TICKET_COLUMNS = [
    "id", "subject", "requester_id", "submitter_id", "assignee_id", "group_id",
    "organization_id", "status_id", "status_category", "priority", "priority_rank", "type",
    "channel", "tags", "created_at", "updated_at", "status_changed_at", "solved_at",
    "first_agent_reply_at", "last_public_comment_at", "comment_count", "version",
    "sla_next_breach_at",
]  # fmt: skip
COMMENT_COLUMNS = ["id", "ticket_id", "author_id", "body", "is_public", "via", "created_at"]
# Tickets go through a staging table so that each is written once, with the search documents
# the comment triggers of migration 0006 would have built: the subject, then every comment
# (public ones only for the public twin) in id order. One to_tsvector of the joined text gives
# the same document as the triggers' concatenation of one tsvector per comment (checked on
# 50,000 loaded tickets: all equal) at half the cost of their PL/pgSQL functions.
_STAGE = "bench_stage_tickets"
_COLUMNS = ", ".join(TICKET_COLUMNS)
_INSERT_STAGED = f"""
INSERT INTO tickets ({_COLUMNS}, search_document, public_search_document)
SELECT {_COLUMNS}, document,
       CASE WHEN public_words IS NOT DISTINCT FROM words THEN document
            ELSE to_tsvector('simple', subject || coalesce(' ' || public_words, '')) END
FROM (
    SELECT s.*, c.words, c.public_words,
           to_tsvector('simple', s.subject || coalesce(' ' || c.words, '')) AS document
    FROM {_STAGE} s
    LEFT JOIN (
        SELECT ticket_id,
               string_agg(body, ' ' ORDER BY id) AS words,
               string_agg(body, ' ' ORDER BY id) FILTER (WHERE is_public) AS public_words
        FROM ticket_comments WHERE id BETWEEN $1 AND $2 GROUP BY ticket_id
    ) c ON c.ticket_id = s.id
) staged
"""


def _next_batch(rows: Iterator[_Batch], size: int, first_comment: int) -> _Batch:
    batch = _Batch()
    for one in rows:
        batch.tickets += one.tickets
        batch.comments.extend((first_comment + c[0], *c[1:]) for c in one.comments)
        batch.sla_states += one.sla_states
        batch.sla_metrics += one.sla_metrics
        if len(batch.tickets) == size:
            break
    return batch


async def _copy_batch(conn: asyncpg.Connection, batch: _Batch) -> None:
    await conn.execute(f"TRUNCATE {_STAGE}")
    await conn.copy_records_to_table(_STAGE, records=batch.tickets, columns=TICKET_COLUMNS)
    await conn.copy_records_to_table(
        "ticket_comments", records=batch.comments, columns=COMMENT_COLUMNS
    )
    await conn.execute(_INSERT_STAGED, batch.comments[0][0], batch.comments[-1][0])
    if batch.sla_states:
        await conn.copy_records_to_table(
            "ticket_slas", records=batch.sla_states, columns=STATE_COLUMNS
        )
        await conn.copy_records_to_table(
            "ticket_sla_metrics", records=batch.sla_metrics, columns=METRIC_COLUMNS
        )


TICKET_METRICS_SQL = """
INSERT INTO ticket_metrics (
    ticket_id, status_category, category_since, first_reply_at, first_reply_minutes,
    solved_at, full_resolution_minutes, closed_at, left_backlog_at, updated_at)
SELECT id, status_category, status_changed_at, first_agent_reply_at,
       EXTRACT(epoch FROM first_agent_reply_at - created_at) / 60,
       solved_at, EXTRACT(epoch FROM solved_at - created_at) / 60,
       CASE WHEN status_category = 'closed' THEN status_changed_at END,
       CASE WHEN status_category IN ('solved', 'closed')
            THEN coalesce(solved_at, status_changed_at) END,
       now()
FROM tickets
"""


async def generate(url: str, scale: int, *, seed: int = 7, log: Any = print) -> dict[str, Any]:
    rng = random.Random(seed)
    shape = Shape(scale)
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        statuses = {
            r["category"]: r["id"]
            for r in await conn.fetch(
                "SELECT category, id FROM ticket_statuses WHERE is_default ORDER BY position"
            )
        }
        await _people(conn, shape, rng)
        sla = await SlaSetup.create(conn, datetime.now(UTC))
        ticket_indexes = await _drop_secondary_indexes(conn, "tickets")
        comment_indexes = await _drop_secondary_indexes(conn, "ticket_comments")
        await conn.execute(
            f"CREATE TEMP TABLE {_STAGE} AS SELECT {_COLUMNS} FROM tickets WITH NO DATA"
        )
        first_ticket = int(await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM tickets"))
        first_comment = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM ticket_comments"))
        rows = _ticket_rows(shape, rng, statuses, first_ticket, sla)
        done = 0
        copying: asyncio.Task[None] | None = None
        while True:
            # Python draws the next batch (in a thread) while PostgreSQL writes this one.
            batch = await asyncio.to_thread(_next_batch, rows, 50_000, first_comment)
            if copying is not None:
                await copying
                log(f"  {done:,} tickets loaded ({time.perf_counter() - started:.0f} s)")
            if not batch.tickets:
                break
            copying = asyncio.create_task(_copy_batch(conn, batch))
            done += len(batch.tickets)
        for table in ("tickets", "ticket_comments"):
            await conn.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        await conn.execute(
            "INSERT INTO tag_counts (tag, ticket_count) "
            "SELECT tag, count(*) FROM tickets, unnest(tags) tag GROUP BY tag "
            "ON CONFLICT (tag) DO UPDATE SET ticket_count = excluded.ticket_count"
        )
        # What migration 0019 gives tickets that existed before it (the pipeline's INSERT for
        # new ones): every ticket has its metrics row, as in a deployed service.
        await conn.execute(TICKET_METRICS_SQL)
        loaded = time.perf_counter() - started
        log(f"  rebuilding {len(ticket_indexes) + len(comment_indexes)} indexes")
        for definition in ticket_indexes + comment_indexes:
            await conn.execute(definition)
        for table in ("tickets", "ticket_comments", "ticket_sla_metrics", "ticket_slas"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        await conn.execute("ANALYZE")
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (scale bigint, seed int, "
            "loaded_at timestamptz DEFAULT now(), format int)"
        )
        await conn.execute(
            f"INSERT INTO {MARKER_TABLE} (scale, seed, format) VALUES ($1, $2, $3)",
            scale, seed, DATASET_FORMAT,
        )  # fmt: skip
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM ticket_comments) AS comments, "
            "(SELECT count(*) FROM ticket_slas) AS with_sla, "
            "(SELECT count(*) FROM tickets WHERE sla_next_breach_at IS NOT NULL) AS running, "
            "(SELECT count(*) FROM tickets WHERE sla_next_breach_at <= now()) AS breached"
        )
    finally:
        await conn.close()
    return {
        "tickets": scale,
        "comments": int(counts["comments"]),
        "customers": shape.customers,
        "agents": shape.agents,
        "groups": shape.groups,
        "organizations": shape.organizations,
        "tickets_with_sla": int(counts["with_sla"]),
        "tickets_with_running_sla": int(counts["running"]),
        "tickets_breached": int(counts["breached"]),
        "load_seconds": round(loaded, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }


async def dataset_scale(url: str) -> int | None:
    """The scale of a finished load of the current format in this database, or None."""
    conn = await asyncpg.connect(url)
    try:
        has_format = await conn.fetchval(
            "SELECT count(*) = 1 FROM information_schema.columns "
            "WHERE table_name = $1 AND column_name = 'format'",
            MARKER_TABLE,
        )
        if not has_format:
            return None  # no load, or one from before the format was recorded
        value = await conn.fetchval(
            f"SELECT max(scale) FROM {MARKER_TABLE} WHERE format = $1", DATASET_FORMAT
        )
        return int(value) if value is not None else None
    finally:
        await conn.close()


# Runs write to the dataset (creates, comments, merges); one that has grown past this many
# times its scale since its load is loaded anew, so that repeated runs measure about the data
# they name (the quick dataset passes it every few runs, the million after dozens).
GROWTH_LIMIT = 1.5


def ensure_dataset(
    server_url: str, scale: int, log: Any, *, regenerate: bool = False, progress: bool = False
) -> str:
    """The URL of helpdesk_bench_<scale>, loaded unless it holds a finished load of this
    format that has not outgrown its scale (a load of an older format is dropped and loaded
    anew rather than migrated: its search documents would be backfilled by migration 0006 for
    minutes, and it has no SLAs)."""
    name = f"helpdesk_bench_{scale}"
    url = with_database(server_url, name)
    if (
        not regenerate
        and asyncio.run(database_exists(server_url, name))
        and asyncio.run(dataset_scale(url)) == scale
    ):
        tickets = asyncio.run(_count_tickets(url))
        if tickets <= scale * GROWTH_LIMIT:
            if progress:
                log(f"reusing the loaded dataset {name} ({tickets:,} tickets)")
            asyncio.run(migrate_and_seed(url))
            return url
        log(f"{name} has grown to {tickets:,} tickets since its load")
    log(f"loading {scale:,} tickets into {name}")
    asyncio.run(recreate_database(server_url, name))
    asyncio.run(migrate_and_seed(url))
    loaded = asyncio.run(generate(url, scale, log=log if progress else lambda _: None))
    if progress:
        log(f"loaded: {loaded}")
    return url


async def _count_tickets(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM tickets"))
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a migrated database")
    parser.add_argument("--scale", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(asyncio.run(generate(args.url, args.scale, seed=args.seed)))


if __name__ == "__main__":
    main()

"""Load N tickets with ~3 comments each, by COPY, with realistic skew.

    python -m bench.generate --url postgresql://... --scale 1000000

Tickets carry their derived columns (status_category copied from the status, priority_rank
from the priority) and tag_counts is rebuilt from them; the generated tsvector columns
(subject_search, search) are left to PostgreSQL. Secondary indexes are dropped during the load
and rebuilt after it, foreign-key triggers are skipped (session_replication_role = replica):
every id written is one this script created.
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

from helpdesk_api.core.auth import hash_token

MARKER_TABLE = "bench_dataset"  # a row here says the load finished; the bench reuses it
AGENT_TOKEN_PREFIX = "hd_bench-agent-"

_WORDS_TEXT = {
    "en": (
        "printer invoice refund password login error server crash slow upgrade license "
        "account billing order delivery shipment tracking broken screen laptop vpn email "
        "sync backup restore outage timeout payment card declined subscription cancel "
        "report export import dashboard mobile app update install network wifi access "
        "permission denied urgent please help thanks again still not working since yesterday"
    ),
    "it": (
        "stampante fattura rimborso password accesso errore server lento aggiornamento "
        "licenza conto pagamento ordine consegna spedizione tracciamento rotto schermo "
        "portatile posta sincronizzazione backup ripristino interruzione carta rifiutata "
        "abbonamento annullare rapporto esportazione cruscotto applicazione rete permesso "
        "negato urgente aiuto grazie ancora non funziona da ieri buongiorno cordiali saluti"
    ),
    "ru": (
        "принтер счёт возврат пароль вход ошибка сервер сбой медленно обновление лицензия "
        "аккаунт оплата заказ доставка отправка отслеживание сломан экран ноутбук почта "
        "синхронизация резервная копия восстановление отключение карта отклонена подписка "
        "отмена отчёт экспорт панель приложение сеть доступ запрещён срочно помогите "
        "спасибо всё ещё не работает со вчерашнего дня здравствуйте"
    ),
    "hu": (
        "nyomtató számla visszatérítés jelszó bejelentkezés hiba szerver összeomlás lassú "
        "frissítés licenc fiók fizetés rendelés szállítás követés törött képernyő laptop "
        "levelezés szinkronizálás mentés visszaállítás leállás kártya elutasítva előfizetés "
        "lemondás jelentés exportálás alkalmazás hálózat hozzáférés megtagadva sürgős "
        "segítség köszönöm még mindig nem működik tegnap óta üdvözlettel"
    ),
    "ro": (
        "imprimantă factură rambursare parolă autentificare eroare server blocare lent "
        "actualizare licență cont plată comandă livrare expediere urmărire defect ecran "
        "laptop poștă sincronizare copie restaurare întrerupere card respins abonament "
        "anulare raport export aplicație rețea acces refuzat urgent ajutor mulțumesc încă "
        "nu funcționează de ieri bună ziua cu stimă"
    ),
}
WORDS = {lang: text.split() for lang, text in _WORDS_TEXT.items()}
LANGUAGES = list(WORDS)
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


def _ticket_rows(
    shape: Shape, rng: random.Random, statuses: dict[str, int], first_id: int, now: datetime
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
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
        comment_rows = []
        step = (updated - created) / comments
        first_reply = None
        for c in range(comments):
            comment_id += 1
            author = requester_id if c % 2 == 0 or assignee is None else assignee
            at = created + step * c
            if author != requester_id and first_reply is None:
                first_reply = at
            comment_rows.append(
                (comment_id, ticket_id, author, _text(rng, lang, rng.randint(8, 60)),
                 c % 4 != 3, channel_pick[i] if c == 0 else "api", at)
            )  # fmt: skip
        yield (
            (ticket_id, subject, requester_id, requester_id, assignee, group_id, org_id,
             statuses[category], category, priority, PRIORITY_RANK[priority], type_pick[i],
             channel_pick[i], tags, created, updated, updated, solved, first_reply,
             comment_rows[-1][6], comments, 1),
            comment_rows,
        )  # fmt: skip


TICKET_COLUMNS = [
    "id", "subject", "requester_id", "submitter_id", "assignee_id", "group_id",
    "organization_id", "status_id", "status_category", "priority", "priority_rank", "type",
    "channel", "tags", "created_at", "updated_at", "status_changed_at", "solved_at",
    "first_agent_reply_at", "last_public_comment_at", "comment_count", "version",
]  # fmt: skip
COMMENT_COLUMNS = ["id", "ticket_id", "author_id", "body", "is_public", "via", "created_at"]


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
        ticket_indexes = await _drop_secondary_indexes(conn, "tickets")
        comment_indexes = await _drop_secondary_indexes(conn, "ticket_comments")
        first_ticket = int(await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM tickets"))
        first_comment = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM ticket_comments"))
        now = datetime.now(UTC)
        rows = _ticket_rows(shape, rng, statuses, first_ticket, now)
        batch = 50_000
        done = 0
        while done < scale:
            tickets: list[tuple[Any, ...]] = []
            comments: list[tuple[Any, ...]] = []
            for ticket, ticket_comments in rows:
                tickets.append(ticket)
                comments.extend((first_comment + c[0], *c[1:]) for c in ticket_comments)
                if len(tickets) == batch:
                    break
            if not tickets:
                break
            await conn.copy_records_to_table("tickets", records=tickets, columns=TICKET_COLUMNS)
            await conn.copy_records_to_table(
                "ticket_comments", records=comments, columns=COMMENT_COLUMNS
            )
            done += len(tickets)
            log(f"  {done:,} tickets loaded ({time.perf_counter() - started:.0f} s)")
        await conn.execute("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))")
        await conn.execute(
            "SELECT setval('ticket_comments_id_seq', (SELECT max(id) FROM ticket_comments))"
        )
        await conn.execute(
            "INSERT INTO tag_counts (tag, ticket_count) "
            "SELECT tag, count(*) FROM tickets, unnest(tags) tag GROUP BY tag "
            "ON CONFLICT (tag) DO UPDATE SET ticket_count = excluded.ticket_count"
        )
        loaded = time.perf_counter() - started
        log(f"  rebuilding {len(ticket_indexes) + len(comment_indexes)} indexes")
        for definition in ticket_indexes + comment_indexes:
            await conn.execute(definition)
        await conn.execute("VACUUM (ANALYZE) tickets")
        await conn.execute("VACUUM (ANALYZE) ticket_comments")
        await conn.execute("ANALYZE")
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (scale bigint, seed int, "
            "loaded_at timestamptz DEFAULT now())"
        )
        await conn.execute(f"INSERT INTO {MARKER_TABLE} (scale, seed) VALUES ($1, $2)", scale, seed)
        comments_total = await conn.fetchval("SELECT count(*) FROM ticket_comments")
    finally:
        await conn.close()
    return {
        "tickets": scale,
        "comments": int(comments_total),
        "customers": shape.customers,
        "agents": shape.agents,
        "groups": shape.groups,
        "organizations": shape.organizations,
        "load_seconds": round(loaded, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }


async def dataset_scale(url: str) -> int | None:
    """The scale of a finished load in this database, or None."""
    conn = await asyncpg.connect(url)
    try:
        exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", MARKER_TABLE)
        if not exists:
            return None
        value = await conn.fetchval(f"SELECT max(scale) FROM {MARKER_TABLE}")
        return int(value) if value is not None else None
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

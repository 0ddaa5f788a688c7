"""Public knowledge base search and suggestions at scale: N articles × 5 locales.

```sh
PYTHONPATH=src python -m bench.kb                    # 100,000 articles; loads once, then reuses
PYTHONPATH=src python -m bench.kb --scale 5000 --seconds 5
```

Its own database (``bench_kb_<N>``) on the bench's PostgreSQL (``bench/pg.py``): N articles
(60 % public, 20 % signed-in, 20 % internal), each translated into en, it, ru, hu and ro, all
published. Titles of 4–7 words and bodies of 80–200 words are drawn from a vocabulary of
2,000 words per language, skewed (a few words are very common, most rare); 30 real words
of each language sit in the middle of the distribution, so a real query word is in about
8 % of the articles. The GIN indexes are built after the load.

It prints, and writes to ``bench/results/<UTC>-kb.txt``:

1. EXPLAIN (ANALYZE, BUFFERS) of the service's search statement for a query per locale;
2. ``GET /v1/public/kb/articles?q=…&locale=…&limit=10`` through ``helpdesk-api serve`` (one
   worker) at ``--clients`` concurrent clients, anonymous: p50/p95/p99 and requests/s;
   against it, the floor: the same two SQL statements (the ranked page, then its snippets),
   compiled from the service's own statements, on as many asyncpg connections;
3. the same for ``POST /v1/public/kb/suggest`` (a form's subject and body) and its SQL.
"""

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql

from bench.measure import serve, stop_process
from bench.pg import (
    BENCH_DIR,
    BenchPostgres,
    database_exists,
    migrate_and_seed,
    recreate_database,
    with_database,
)
from helpdesk_api.kb import search
from helpdesk_api.kb.search import ANONYMOUS, Filters
from helpdesk_api.models import KbTranslation

# 30 words of each language, as one string each (split where used).
REAL_WORDS = {
    "en": "password account printer invoice refund login email network install update error "
    "reset billing security subscription payment delivery order shipping return warranty "
    "battery screen keyboard mouse license download upload backup restore",
    "it": "password account stampante fattura rimborso accesso posta rete installazione "
    "aggiornamento errore ripristino pagamento sicurezza abbonamento consegna ordine "
    "spedizione reso garanzia batteria schermo tastiera licenza download caricamento "
    "copia ripristinare carrello prezzo",
    "ru": "пароль аккаунт принтер счёт возврат вход почта сеть установка обновление ошибка "
    "сброс оплата безопасность подписка доставка заказ отправка гарантия батарея экран "
    "клавиатура мышь лицензия загрузка копия восстановление корзина цена скидка",
    "hu": "jelszó fiók nyomtató számla visszatérítés bejelentkezés levél hálózat telepítés "
    "frissítés hiba visszaállítás fizetés biztonság előfizetés szállítás rendelés "
    "garancia akkumulátor képernyő billentyűzet egér licenc letöltés feltöltés mentés "
    "kosár ár kedvezmény csomag",
    "ro": "parolă cont imprimantă factură rambursare autentificare poștă rețea instalare "
    "actualizare eroare resetare plată securitate abonament livrare comandă expediere "
    "garanție baterie ecran tastatură mouse licență descărcare încărcare copie coș preț "
    "reducere",
}
# Inflected forms, as visitors type them (stemming must bring them to the stored words).
QUERIES = {
    "en": ["passwords", "resetting password", "printer errors", "refunds", "invoice payment"],
    "it": ["stampanti", "fatture", "errori di rete", "rimborsi", "password"],
    "ru": ["пароля", "ошибки сети", "принтера", "возврата заказа", "счета"],
    "hu": ["jelszavak", "nyomtatót", "hibák", "számlák", "jelszo"],
    "ro": ["parola", "imprimantei", "erori", "facturi", "livrarea comenzii"],
}
SUGGEST = {
    "en": ("Printer shows an error", "After the update my printer shows an error and stops."),
    "ru": ("Не могу войти", "Забыл пароль от аккаунта, сброс не приходит на почту."),
    "it": ("Fattura sbagliata", "La fattura del mio ordine ha un errore nel pagamento."),
}
VOCABULARY = 2000
REAL_AT = 300  # where the real words sit in the skewed vocabulary
LIMIT = 10
FORMAT = 1


def vocabulary(locale: str, rng: random.Random) -> list[str]:
    real = REAL_WORDS[locale].split()
    letters = sorted({ch for word in real for ch in word})
    words = [
        "".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(VOCABULARY)
    ]
    words[REAL_AT : REAL_AT + len(real)] = real
    return words


# Word i of the vocabulary with probability ~ i = VOCABULARY * u^3: skewed towards the start.
DRAW = "($2::text[])[1 + floor({n} * random() ^ 3)::int]"
LOAD_TRANSLATIONS = f"""
INSERT INTO kb_translations (article_id, locale, title, body, body_text, status, published_at)
SELECT a.id, $1, t.words, '<p>' || b.words || '</p>', b.words, 'published', now()
FROM kb_articles a
CROSS JOIN LATERAL (
    SELECT string_agg({DRAW.format(n=VOCABULARY)}, ' ') AS words
    FROM generate_series(1, 4 + a.id % 4)
) t
CROSS JOIN LATERAL (
    SELECT string_agg({DRAW.format(n=VOCABULARY)}, ' ') AS words
    FROM generate_series(1, 80 + a.id % 121)
) b
"""


async def load(url: str, scale: int) -> None:
    await migrate_and_seed(url)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO kb_categories (name) VALUES ('Help')")
        await conn.execute(
            "INSERT INTO kb_sections (category_id, name) "
            "SELECT c.id, 'Section ' || g FROM kb_categories c, generate_series(1, 40) g"
        )
        await conn.execute(
            "INSERT INTO kb_articles (section_id, source_locale, visibility, labels) "
            "SELECT (SELECT min(id) FROM kb_sections) + g % 40, 'en', "
            "(ARRAY['public','public','public','signed_in','internal'])[1 + g % 5], "
            "ARRAY['label' || g % 200] FROM generate_series(1, $1) g",
            scale,
        )
        await conn.execute("DROP INDEX ix_kb_translations_search")
        await conn.execute("DROP INDEX ix_kb_translations_title_trgm")
        rng = random.Random(7)
        for locale in REAL_WORDS:
            started = time.perf_counter()
            await conn.execute(LOAD_TRANSLATIONS, locale, vocabulary(locale, rng))
            print(f"loaded {locale} in {time.perf_counter() - started:.0f} s", flush=True)
        await conn.execute(
            "CREATE INDEX ix_kb_translations_search ON kb_translations USING gin (search_vector)"
        )
        await conn.execute(
            "CREATE INDEX ix_kb_translations_title_trgm ON kb_translations "
            "USING gin (title gin_trgm_ops)"
        )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def _sql(statement: Any) -> str:
    compiled = statement.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled).replace("%%", "%")


def search_sql(locale: str, q: str) -> tuple[str, Callable[[list[int]], str]]:
    """The service's ranked page and its snippets statement (``kb.search.search``)."""
    query = search.web_query(locale, q)
    rank = func.ts_rank(KbTranslation.search_vector, query).label("rank")
    page = (
        search.readable(ANONYMOUS, Filters(locale=locale))
        .add_columns(rank)
        .where(KbTranslation.search_vector.op("@@")(query))
        .order_by(rank.desc(), KbTranslation.id)
        .limit(LIMIT + 1)
    )
    return _sql(page), lambda ids: _snippets_sql(locale, query, ids)


def suggest_sql(locale: str, text: str) -> tuple[str, Callable[[list[int]], str]]:
    query = search.any_word_query(locale, text)
    rank = func.ts_rank(KbTranslation.search_vector, query)
    page = (
        search.readable(ANONYMOUS, Filters())
        .add_columns(rank.label("rank"))
        .where(
            KbTranslation.locale.in_([locale]),
            KbTranslation.search_vector.op("@@")(query),
        )
        .order_by(rank.desc(), search.KbArticle.promoted.desc(), KbTranslation.id)
        .limit(5)
    )
    return _sql(page), lambda ids: _snippets_sql(locale, query, ids)


def _snippets_sql(locale: str, query: Any, ids: list[int]) -> str:
    headline = func.ts_headline(
        search._config(locale), KbTranslation.body_text, query, search._HEADLINE
    )
    return _sql(select(KbTranslation.id, headline).where(KbTranslation.id.in_(ids or [0])))


async def explain(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    lines: list[str] = []
    try:
        for locale, queries in QUERIES.items():
            page, _ = search_sql(locale, queries[0])
            lines.append(f"\n-- search locale={locale} q={queries[0]!r}")
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + page)
            lines.extend(r[0] for r in rows)
    finally:
        await conn.close()
    return lines


Call = Callable[[int], Awaitable[None]]


async def measure(clients: int, seconds: float, call: Call) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        n = index
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await call(n)
            latencies.append((time.perf_counter() - started) * 1000)
            n += clients

    await asyncio.gather(*(worker(i) for i in range(clients)))
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    return {
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies),
        "p95": pct(0.95),
        "p99": pct(0.99),
    }


def _cases() -> list[tuple[str, str]]:
    return [(locale, q) for locale, qs in QUERIES.items() for q in qs]


async def service_calls(base: str, clients: int) -> tuple[Call, Call, httpx.AsyncClient]:
    http = httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=clients))
    cases = _cases()
    suggests = list(SUGGEST.items())

    async def do_search(n: int) -> None:
        locale, q = cases[n % len(cases)]
        params = {"q": q, "locale": locale, "limit": LIMIT}
        response = await http.get("/v1/public/kb/articles", params=params)
        assert response.status_code == 200, response.text

    async def do_suggest(n: int) -> None:
        locale, (subject, body) = suggests[n % len(suggests)]
        payload = {"subject": subject, "body": body, "locale": locale}
        response = await http.post("/v1/public/kb/suggest", json=payload)
        assert response.status_code == 200, response.text

    return do_search, do_suggest, http


async def floor_calls(url: str, clients: int) -> tuple[Call, Call, asyncpg.Pool]:
    pool = await asyncpg.create_pool(url, min_size=clients, max_size=clients)
    searches = [search_sql(locale, q) for locale, q in _cases()]
    suggests = [suggest_sql(locale, f"{s}\n{b}") for locale, (s, b) in SUGGEST.items()]

    def run(statements: list[tuple[str, Callable[[list[int]], str]]]) -> Call:
        async def call(n: int) -> None:
            page, snippets = statements[n % len(statements)]
            async with pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(page)
                await conn.fetch(snippets([r["id"] for r in rows[:LIMIT]]))

        return call

    return run(searches), run(suggests), pool


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--reload", action="store_true", help="load the data again")
    args = parser.parse_args()

    pg = BenchPostgres()
    server_url = pg.start()
    name = f"bench_kb_{args.scale}"
    url = with_database(server_url, name)
    out: list[str] = []
    try:
        if args.reload or not await database_exists(server_url, name):
            await recreate_database(server_url, name)
            await load(url, args.scale)
        out.append(f"kb bench format {FORMAT}: {args.scale} articles x 5 locales, "
                   f"{args.clients} clients, {args.seconds:.0f} s each, limit {LIMIT}")  # fmt: skip
        out.extend(await explain(url))
        service = serve(url, args.port, workers=1)
        try:
            do_search, do_suggest, http = await service_calls(
                f"http://127.0.0.1:{args.port}", args.clients
            )
            floor_search, floor_suggest, pool = await floor_calls(url, args.clients)
            try:
                for label, call in (
                    ("service search", do_search),
                    ("floor search", floor_search),
                    ("service suggest", do_suggest),
                    ("floor suggest", floor_suggest),
                ):
                    await measure(args.clients, min(2.0, args.seconds), call)  # warm up
                    result = await measure(args.clients, args.seconds, call)
                    out.append(
                        f"{label:16} n={result['requests']:6} rps={result['rps']:7.1f} "
                        f"p50={result['p50']:6.1f} ms p95={result['p95']:6.1f} ms "
                        f"p99={result['p99']:6.1f} ms"
                    )
                    print(out[-1], flush=True)
            finally:
                await http.aclose()
                await pool.close()
        finally:
            stop_process(service)
    finally:
        pg.stop()
    text = "\n".join(out) + "\n"
    print(text)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    path = Path(BENCH_DIR / "results" / f"{stamp}-kb.txt")
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)  # noqa: ASYNC240 (once, at the end)
    print(f"written to {path}")


if __name__ == "__main__":
    asyncio.run(main())

"""Triggers' cost on the write paths (issue #14): `python -m bench.triggers [--rounds 3]`.

Stand-alone, not part of `bench.run`. It copies the quick dataset (`helpdesk_bench_<scale>`,
loaded by `generate.ensure_dataset` when missing) into `bench_triggers`, so the triggers it
writes never reach the dataset the floors read (they refuse any trigger but the default), and
serves it with `helpdesk-api serve --workers 2` as `bench.run` does. Then, in one run and
against the same service processes, it measures `create_ticket`, `update_status` and
`add_comment` (`bench.loadgen`'s requests, `measure.run_load`'s windows) in three
configurations:

- **default**: only the default "Acknowledge new requests" trigger of migration 0012 active;
- **quiet_100**: 100 more, written through `POST /v1/triggers` with the admin token, with
  varied conditions (subject and comment words, priority, tags, via, group, status category,
  requester and organisation tags, locale, SLA events, actor role; `all` and `any`) and
  actions (tags, priority, group, assignee, status), none of which the bench's requests
  meet (checked: their audit notes are counted, `quiet_firings`). This is the issue's
  target: what 100 rules cost every change;
- **triggers_100** (firing): 95 of those and 5 that match some requests and add a tag or
  raise the priority, so the engine also plans, applies and writes now and then.

With `--rounds 3` (the default) the order is default, quiet, firing, three times (triggers
switched on and off with `PATCH /v1/triggers/{id}`), so a machine whose load drifts weighs
on every configuration; each figure is the median of its rounds, the ratios are to the
default's, and *cpu* compares the service's and PostgreSQL's CPU per request. One
unrecorded pass warms the fresh service first. Last, unless `--no-pyspy`, one more window
per scenario for default and quiet with py-spy attached gives the trigger reaction's share
of the service's CPU, which the machine's other load does not blur as it blurs the rate.

Statements per request (`--capture N`, default 8; 0 skips): after the windows of each
configuration, a fresh one-worker service with `log_statement = all` answers N requests per
scenario (`capture_sql.logged_service`), the same seeded request stream in both, and the
statements of each are counted; a request whose statements mention a bench trigger's tag is
counted as fired; the statements' text (160 characters) is kept in the JSON.
Results: `results/<UTC>-triggers.json` and `.md`.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import pyspy, report
from bench.capture_sql import logged_request, logged_service, statements
from bench.context import build_context
from bench.generate import ensure_dataset
from bench.loadgen import SCENARIOS as REQUESTS
from bench.loadgen import client_context
from bench.measure import log, run_load, serve, stop_process, tree
from bench.pg import ADMIN_TOKEN, BENCH_DIR, DATA_DIR, BenchPostgres, recreate_database
from bench.words import WORDS

RESULTS = BENCH_DIR / "results"
DATABASE = "bench_triggers"
SCENARIOS = ("create_ticket", "update_status", "add_comment")
CONFIGS = ("default", "quiet_100", "triggers_100")
EXTRA = 100
# Tags the matching triggers add: a captured request that mentions one fired a bench trigger.
FIRED_MARK = "trigbench-"

# Words no bench request contains (checked below against bench.words), in several languages.
RARE_WORDS = (
    "chargeback", "gdpr", "subpoena", "ransomware", "phishing", "lawsuit", "escalation",
    "datenschutz", "rechnungskorrektur", "kündigung", "facturation", "remboursement",
    "résiliation", "garanzia", "reclamo", "contestazione", "жалоба", "претензия",
    "panasz", "reklamáció", "reclamație", "garanție", "invoicing", "refunds", "outages",
    "onboarding", "offboarding", "procurement", "sso", "saml", "2fa", "mfa", "audit",
    "compliance", "hipaa", "sox", "pci", "fraud", "stolen", "lost", "legal", "press",
)  # fmt: skip
RARE_PHRASES = (
    "data breach", "cancel my account", "speak to a manager", "legal action",
    "credit card stolen", "not receiving emails", "account locked out",
)  # fmt: skip
RARE_TAGS = tuple(
    f"{kind}-{n}" for kind in ("vip", "enterprise", "beta", "churn-risk") for n in range(6)
)
CHANNELS = ("email", "chat", "phone", "telegram", "web")
LOCALES = ("de", "fr", "ja", "pt-BR", "es")
SLA_EVENTS = (
    "first_reply_time.breached", "first_reply_time.warning", "next_reply_time.breached",
    "resolution_time.warning", "resolution_time.breached", "periodic_update_time.breached",
)  # fmt: skip


def _c(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def matching_triggers() -> list[dict[str, Any]]:
    """Five triggers that match some of the bench's requests (each adds a tag at most once
    per ticket, or raises a low or normal priority to high)."""
    return [
        {"title": "Tag urgent intake", "conditions": {"all": [
            _c("update_type", "is", "created"), _c("priority", "is", "urgent")]},
         "actions": [{"action": "add_tags", "tags": [f"{FIRED_MARK}urgent"]}]},
        {"title": "Billing words", "conditions": {"all": [_c("comment_present", "is", True)],
         "any": [_c("comment_text", "contains_words", "invoice"),
                 _c("comment_text", "contains_words", "fattura")]},
         "actions": [{"action": "add_tags", "tags": [f"{FIRED_MARK}billing"]}]},
        {"title": "Printer trouble is high", "conditions": {"all": [
            _c("subject", "contains_words", "printer"),
            _c("priority", "less_than", "high")]},
         "actions": [{"action": "set_priority", "priority": "high"},
                     {"action": "add_tags", "tags": [f"{FIRED_MARK}printer"]}]},
        {"title": "Waiting on the customer", "conditions": {"all": [
            _c("update_type", "is", "changed"),
            _c("status_category", "changed_to", "pending")]},
         "actions": [{"action": "add_tags", "tags": [f"{FIRED_MARK}waiting"]}]},
        {"title": "Internal server notes", "conditions": {"all": [
            _c("comment_public", "is", False), _c("comment_text", "contains_words", "server")]},
         "actions": [{"action": "add_tags", "tags": [f"{FIRED_MARK}server-note"]}]},
    ]  # fmt: skip


def other_triggers(ctx: dict[str, Any], count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` triggers none of the bench's requests meets: each fails on a value the
    bench never sends, often only after conditions that do hold (update type, via, actor
    role, a common tag or priority), so the evaluation goes past the first condition."""
    groups, tags = ctx["group_ids"], ctx["tags"]
    agents = [int(a) for a in ctx["assignee_ids"] if a != "none"]
    statuses = ctx["working_status_ids"]

    def words(k: int = 2) -> str:  # contains_words: every word of the text
        return " ".join(rng.sample(RARE_WORDS, k))

    def common() -> dict[str, Any]:  # a condition the bench's requests often meet
        return rng.choice([
            _c("via", "is", "api"), _c("actor_role", "in", ["admin", "agent"]),
            _c("priority", "in", ["normal", "high"]),
            _c("tags", "includes_any", rng.sample(tags, 3)),
            _c("update_type", "is", rng.choice(["created", "changed"])),
            _c("status_category", "in", ["new", "open"]), _c("comment_present", "is", True),
        ])  # fmt: skip

    kinds = [
        lambda n: ({"all": [_c("update_type", "is", "created"),
                          _c("subject", "contains_words", words())]},
                 [{"action": "set_group", "group_id": rng.choice(groups)}]),
        lambda n: ({"all": [common(), _c("comment_public", "is", True)],
                  "any": [_c("comment_text", "contains_words", words(1)),
                          _c("comment_text", "contains_phrase", rng.choice(RARE_PHRASES))]},
                 [{"action": "add_tags", "tags": [f"topic-{rng.choice(RARE_WORDS)}"]}]),
        lambda n: ({"all": [common(),
                          _c("requester_tags", "includes_any", rng.sample(RARE_TAGS, 2))]},
                 [{"action": "set_priority", "priority": "urgent"}]),
        lambda n: ({"all": [_c("sla_event", "in", rng.sample(SLA_EVENTS, 2))]},
                 [{"action": "set_assignee", "assignee_id": rng.choice(agents)},
                  {"action": "add_tags", "tags": ["sla-escalated"]}]),
        lambda n: ({"all": [_c("status_category", "changed_to", "solved"),
                          _c("tags", "includes_any", rng.sample(RARE_TAGS, 2))]},
                 [{"action": "add_tags", "tags": ["csat-survey"]}]),
        lambda n: ({"all": [_c("via", "in", rng.sample(CHANNELS, 2)),
                          common()]},
                 [{"action": "set_group", "group_id": rng.choice(groups)}]),
        lambda n: ({"all": [common(), _c("group_id", "is", rng.choice(groups)),
                          _c("tags", "includes_any", rng.sample(RARE_TAGS, 2))]},
                 [{"action": "set_assignee", "assignee_id": rng.choice(agents)}]),
        lambda n: ({"all": [common(), _c("subject", "contains_phrase", rng.choice(RARE_PHRASES))]},
                 [{"action": "set_priority", "priority": "urgent"},
                  {"action": "add_tags", "tags": ["security"]}]),
        lambda n: ({"all": [_c("organization_tags", "includes_all", rng.sample(RARE_TAGS, 2)),
                          _c("type", "is", rng.choice(["incident", "problem", "task"]))]},
                 [{"action": "set_group", "group_id": rng.choice(groups)}]),
        lambda n: ({"all": [common(), _c("requester_locale", "in", rng.sample(LOCALES, 2))]},
                 [{"action": "add_tags", "tags": [f"lang-{rng.choice(['de', 'fr', 'ja'])}"]}]),
        lambda n: ({"all": [_c("actor_role", "is", "customer"), _c("comment_present", "is", True),
                          _c("status_category", "is", "pending")]},
                 [{"action": "set_status", "status_id": rng.choice(statuses)}]),
        lambda n: ({"all": [_c("tags", "includes_any", rng.sample(tags, 3)), common(),
                          _c("comment_text", "contains_words", words())]},
                 [{"action": "add_tags", "tags": [f"topic-{rng.choice(RARE_WORDS)}"]}]),
        lambda n: ({"all": [common()], "any": [_c("subject", "contains_words", words(1)),
                                              _c("tags", "includes_all", rng.sample(RARE_TAGS, 2)),
                                              _c("requester_id", "is", 10**9 + n)]},
                 [{"action": "add_tags", "tags": ["watchlist"]}]),
        lambda n: ({"all": [_c("priority", "greater_than", "high"), _c("via", "is_not", "api")]},
                 [{"action": "set_group", "group_id": rng.choice(groups)}]),
    ]  # fmt: skip
    out = []
    for n in range(count):
        conditions, actions = kinds[n % len(kinds)](n)
        out.append({"title": f"Bench rule {n + 1}", "conditions": conditions, "actions": actions})
    return out


MATCHING_AT = (7, 31, 52, 77, 94)


def trigger_set(ctx: dict[str, Any], extra: int = EXTRA, seed: int = 14) -> list[dict[str, Any]]:
    """``extra`` triggers: the matching five spread among the others."""
    rng = random.Random(seed)
    vocabulary = {w.casefold() for lang in WORDS.values() for w in lang}
    assert not vocabulary & set(RARE_WORDS), vocabulary & set(RARE_WORDS)
    matching = matching_triggers()
    rules = other_triggers(ctx, extra - len(matching), rng)
    for index, rule in zip(MATCHING_AT, matching, strict=True):
        rules.insert(min(index, len(rules)), rule)
    return rules


def stand_ins(ctx: dict[str, Any], seed: int = 15) -> list[dict[str, Any]]:
    """Five more triggers no request meets: in the quiet configuration they stand in for the
    matching five (last in the order), so the engine evaluates 100 triggers and none fires."""
    rules = other_triggers(ctx, len(MATCHING_AT), random.Random(seed))
    for n, rule in enumerate(rules):
        rule["title"] = f"Bench stand-in {n + 1}"
    return rules


def _client(base: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    return httpx.Client(base_url=base, headers=headers, timeout=60)


def write_triggers(base: str, rules: list[dict[str, Any]]) -> list[int]:
    with _client(base) as client:
        ids = []
        for rule in rules:
            response = client.post("/v1/triggers", json=rule)
            if response.status_code != 201:
                raise RuntimeError(f"{rule['title']}: {response.status_code} {response.text}")
            ids.append(response.json()["id"])
        return ids


def set_active(base: str, ids: list[int], active: bool) -> None:
    with _client(base) as client:
        for trigger_id in ids:
            client.patch(f"/v1/triggers/{trigger_id}", json={"active": active}).raise_for_status()


def active_titles(base: str) -> list[str]:
    with _client(base) as client:
        titles, cursor = [], None
        while True:
            params: dict[str, Any] = {"active": "true", "limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/v1/triggers", params=params).raise_for_status().json()
            titles += [t["title"] for t in page["data"]]
            cursor = page.get("next_cursor")
            if not cursor:
                return titles


def capture_counts(
    pg: BenchPostgres, url: str, ctx: dict[str, Any], port: int, requests: int
) -> dict[str, Any]:
    """Statements per request, from a fresh one-worker service with log_statement = all:
    the same seeded requests whatever the configuration (the first, warm-up, not counted)."""
    out: dict[str, Any] = {}
    with logged_service(pg, url, {"log_statement": "all"}, port) as client:
        for scenario in SCENARIOS:
            rng, cctx = random.Random(21), client_context(ctx, 0, 1)
            make = REQUESTS[scenario]
            client.request(*make(rng, cctx)[:2], json=make(rng, cctx)[2])  # warm
            counts, fired, texts = [], [], []
            for _ in range(requests):
                method, path, body = make(rng, cctx)
                response, chunk = logged_request(
                    pg, client, method, path, body, until_transaction_end=True
                )
                response.raise_for_status()
                sent = statements(chunk)
                counts.append(len(sent))
                texts.append([sql[:160] for sql, _ in sent])
                fired.append(any(FIRED_MARK in f"{sql} {params}" for sql, params in sent))
            quiet = [c for c, f in zip(counts, fired, strict=True) if not f]
            out[scenario] = {
                "statements": counts,
                "fired": fired,
                "median": statistics.median(counts),
                "median_not_fired": statistics.median(quiet) if quiet else None,
                "max_not_fired": max(quiet) if quiet else None,
                "sql": texts,
            }
            log(f"  {scenario:<14} statements per request {counts} fired {sum(fired)}")
    return out


async def _firings(url: str, trigger_ids: list[int]) -> int:
    """Audit notes of ``trigger_ids`` firing: 0 proves a configuration quiet."""
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM ticket_audits a, jsonb_array_elements(a.changes) c "
                "WHERE a.via = 'trigger' AND c->>'field' = 'trigger' "
                "AND (c->'to'->>'id')::bigint = ANY($1::bigint[])",
                trigger_ids,
            )
        )
    finally:
        await conn.close()


async def _tagged(url: str) -> int:
    """Tickets a bench trigger tagged: its matching rules did fire."""
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM tickets WHERE EXISTS "
                "(SELECT 1 FROM unnest(tags) t WHERE t LIKE $1)",
                FIRED_MARK + "%",
            )
        )
    finally:
        await conn.close()


def attribute(
    base: str,
    service_pid: int,
    watched: dict[str, Any],
    url: str,
    context: dict[str, Any],
    args: argparse.Namespace,
    label: str,
) -> dict[str, float]:
    """Per scenario, the share of the service's CPU samples (py-spy, every worker) with the
    trigger reaction on the stack: a share holds still while the machine's other load moves
    the rate, so it tells what the triggers cost when a noisy neighbour blurs the ratio."""
    shares = {}
    for scenario in SCENARIOS:
        spec = {
            "scenario": scenario, "target": base, "token": ADMIN_TOKEN,
            "concurrency": args.concurrency, "duration": args.duration, "warmup": args.warmup,
            "warmup_requests": 3, "context": context, "seed": 99,
        }  # fmt: skip
        raw = args.output / f".pyspy-triggers-{label}-{scenario}.raw"
        sampler = pyspy.record(service_pid, args.duration, raw)
        run_load(spec, watched, url)
        sampler.wait(timeout=args.duration + 60)
        summary = pyspy.summarize(raw)
        if not args.keep_pyspy:
            raw.unlink(missing_ok=True)
        share = summary["inclusive_cpu_pct_by_step"].get("TriggerReaction.__call__", 0.0)
        shares[scenario] = share
        log(f"{label:<13} {scenario:<14} trigger reaction {share} % of the service's CPU")
    return shares


def _serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """`measure.serve`, tried three times: on this shared two-core machine under a load of
    5-6, uvicorn's supervisor has killed workers that were slow to answer its start-up
    check until the 60 s were gone."""
    for attempt in range(3):
        try:
            return serve(url, port, workers)
        except RuntimeError as exc:
            log(f"the service did not start (attempt {attempt + 1}): {exc}")
    raise RuntimeError("the service did not start in three attempts")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=2_000, help="the dataset (quick: 2,000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per window")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3, help="default/quiet/firing cycles")
    parser.add_argument("--capture", type=int, default=8, help="requests per scenario; 0: none")
    parser.add_argument("--port", type=int, default=18641, help="the service's; +1 for capture")
    parser.add_argument(
        "--no-pyspy", action="store_true", help="skip the windows that attribute CPU to triggers"
    )
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument(
        "--keep-pyspy", action="store_true", help="keep the raw py-spy stacks for a diff"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args()


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 2)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def _cpu_per_request(run: dict[str, Any]) -> float:
    """The service's and PostgreSQL's CPU per request: less swayed than the rate by what
    else the shared machine runs meanwhile."""
    cpu = run["cpu_ms_per_request"]
    return float(cpu["api"] + cpu["postgres"])


def summarize(windows: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """Each configuration's median over its rounds (a round slowed by a neighbour's burst
    does not drag it), and the ratios to the default's."""
    out: dict[str, Any] = {}
    for scenario in SCENARIOS:
        row: dict[str, Any] = {}
        for config in CONFIGS:
            runs = windows[config][scenario]
            row[config] = {
                "rps": _median([r["rps"] for r in runs]),
                "p50_ms": _median([r["p50_ms"] for r in runs]),
                "p95_ms": _median([r["p95_ms"] for r in runs]),
                "cpu_ms_per_request": _median([_cpu_per_request(r) for r in runs]),
                "errors": sum(r["errors"] for r in runs),
                "rps_by_round": [r["rps"] for r in runs],
            }
        for config in CONFIGS[1:]:
            row[f"ratio_rps_{config}"] = round(row[config]["rps"] / row["default"]["rps"], 3)
            row[f"ratio_p50_{config}"] = round(row[config]["p50_ms"] / row["default"]["p50_ms"], 3)
            # Requests per CPU second, as a ratio: what the rate would be on an idle machine.
            row[f"ratio_cpu_{config}"] = round(
                row["default"]["cpu_ms_per_request"] / row[config]["cpu_ms_per_request"], 3
            )
        out[scenario] = row
    return out


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# Triggers: default vs {EXTRA} more ({result['started_at']})",
        "",
        f"{result['dataset']['tickets']:,} tickets, {result['workers']} workers, "
        f"{result['concurrency']} clients, {result['rounds']} round(s) of "
        f"{result['duration']} s windows per configuration; load average "
        f"{result['loadavg_before']} before, {result['loadavg_after']} after "
        f"({result['machine']['cpus']} CPUs). Shared machine: the figures are noisy.",
        "",
        "- **quiet**: 100 triggers evaluated on every change, none fires "
        f"(audit notes of theirs: {result['quiet_firings']}); the issue's 10 % target;",
        "- **firing**: 95 of them plus the 5 that match some requests and write (a tag, a "
        "priority): the cost of the evaluation and of the triggers' own writes.",
        "",
        "Medians over the rounds. *cpu* is requests per CPU second of the service and "
        "PostgreSQL together, as a ratio to the default's: the rate an idle machine would "
        "see, less swayed by neighbours than the rate itself.",
        "",
        "| scenario | default rps | quiet rps | firing rps | ratio quiet (rps / cpu) | "
        "ratio firing (rps / cpu) | CPU ms per request (default / quiet / firing) | "
        "rps by round (default; quiet; firing) | statements (default / quiet / firing, "
        "median) |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    attribution = result.get("trigger_reaction_cpu_pct") or {}
    if attribution:
        lines[-2:-2] = [
            "py-spy, one extra window per scenario and configuration: the trigger reaction's "
            "share of the service's CPU (default → quiet): "
            + ", ".join(
                f"{s} {attribution['default'][s]} % → {attribution['quiet_100'][s]} %"
                for s in SCENARIOS
            )
            + ".",
            "",
        ]
    sql = result["statements_per_request"]
    for scenario, row in result["summary"].items():
        by = [row[c] for c in CONFIGS]
        counts = ""
        if sql:
            counts = " / ".join(str(sql[c][scenario]["median"]) for c in CONFIGS if c in sql)
            fired = sql.get("triggers_100", {}).get(scenario, {}).get("fired", [])
            counts += f" ({sum(fired)} of {len(fired)} fired)"
        lines.append(
            f"| {scenario} | {by[0]['rps']} | {by[1]['rps']} | {by[2]['rps']} | "
            f"**{row['ratio_rps_quiet_100']} / {row['ratio_cpu_quiet_100']}** | "
            f"{row['ratio_rps_triggers_100']} / {row['ratio_cpu_triggers_100']} | "
            + " / ".join(str(b["cpu_ms_per_request"]) for b in by)
            + " | "
            + "; ".join(str(b["rps_by_round"]) for b in by)
            + f" | {counts} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    args = _arguments()
    args.output.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y-%m-%dT%H%M%SZ")
    loadavg_before = [round(x, 2) for x in os.getloadavg()]
    pg = BenchPostgres(args.data_dir)
    server_url = pg.start()
    service = None
    windows: dict[str, dict[str, list[dict[str, Any]]]] = {
        c: {s: [] for s in SCENARIOS} for c in (*CONFIGS, "warm-up")
    }
    captured: dict[str, Any] = {}
    quiet_firings = 0
    attribution: dict[str, dict[str, float]] = {}
    try:
        ensure_dataset(server_url, args.scale, log, progress=True)  # helpdesk_bench_<scale>
        source = f"helpdesk_bench_{args.scale}"
        url = asyncio.run(recreate_database(server_url, DATABASE, source))
        dataset = asyncio.run(report.dataset(url))
        context = asyncio.run(build_context(url))
        base = f"http://127.0.0.1:{args.port}"
        service = _serve(url, args.port, args.workers)
        watched = {"api": tree(service.pid), "postgres": tree(pg.postmaster_pid())}
        defaults = active_titles(base)
        log(f"active triggers before: {defaults}")
        rules = trigger_set(context)
        extra = stand_ins(context)
        ids: list[int] = []
        quiet_ids: list[int] = []

        def window(config: str) -> None:
            for scenario in SCENARIOS:
                spec = {
                    "scenario": scenario, "target": base, "token": ADMIN_TOKEN,
                    "concurrency": args.concurrency, "duration": args.duration,
                    "warmup": args.warmup, "warmup_requests": 3, "context": context,
                    "seed": len(windows[config][scenario]) + 1,
                }  # fmt: skip
                result = run_load(spec, watched, url)
                windows[config][scenario].append(result)
                log(
                    f"{config:<13} {scenario:<14} {result['rps']:>7} rps p50 "
                    f"{result['p50_ms']} ms p95 {result['p95_ms']} ms errors {result['errors']} "
                    f"load {result['loadavg_1m_before']}"
                )

        def capture(config: str) -> None:
            if args.capture and config not in captured:
                log(f"statements per request, {len(active_titles(base))} active triggers")
                captured[config] = capture_counts(pg, url, context, args.port + 1, args.capture)

        # A fresh service's first windows are slow (the first run's first create window ran at
        # half the rate of the next): one unrecorded pass of each scenario first.
        window("warm-up")
        for _ in range(args.rounds):
            if ids:
                set_active(base, ids + quiet_ids, False)
            window("default")
            capture("default")
            if ids:
                set_active(base, quiet_ids, True)
            else:
                ids = write_triggers(base, rules)
                quiet_ids = [ids[i] for i in range(len(ids)) if i not in MATCHING_AT]
                quiet_ids += write_triggers(base, extra)
                set_active(base, [i for i in ids if i not in quiet_ids], False)
                log(f"wrote {len(ids) + len(extra)} triggers through POST /v1/triggers")
            before = asyncio.run(_firings(url, quiet_ids))
            window("quiet_100")
            quiet_firings += asyncio.run(_firings(url, quiet_ids)) - before
            capture("quiet_100")
            set_active(base, quiet_ids[-len(extra) :], False)
            set_active(base, [i for i in ids if i not in quiet_ids], True)
            window("triggers_100")
            capture("triggers_100")
        if pyspy.available() and not args.no_pyspy:
            # Last, so the measured windows never share the CPU with the sampler.
            set_active(base, ids + quiet_ids, False)
            attribution["default"] = attribute(
                base, service.pid, watched, url, context, args, "default"
            )
            set_active(base, quiet_ids, True)
            attribution["quiet_100"] = attribute(
                base, service.pid, watched, url, context, args, "quiet"
            )
        tagged = asyncio.run(_tagged(url))
    finally:
        if service is not None:
            stop_process(service)
        postgres_version = pg.psql("SHOW server_version;").splitlines()[2].strip()
        pg.psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE);")
        pg.stop()
    loadavg_after = [round(x, 2) for x in os.getloadavg()]
    result = {
        "started_at": started.isoformat(timespec="seconds"),
        "scale": args.scale,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "duration": args.duration,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "loadavg_before": loadavg_before,
        "loadavg_after": loadavg_after,
        "machine": report.machine(postgres_version),
        "dataset": dataset,
        "default_triggers": defaults,
        "extra_triggers": rules,
        "stand_ins": extra,
        "tickets_tagged_by_bench_triggers": tagged,
        "quiet_firings": quiet_firings,
        "trigger_reaction_cpu_pct": attribution,
        "summary": summarize(windows),
        "statements_per_request": captured,
        "windows": windows,
    }
    (args.output / f"{stamp}-triggers.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (args.output / f"{stamp}-triggers.md").write_text(table)
    print(table)
    log(f"wrote {args.output / stamp}-triggers.json and .md")


if __name__ == "__main__":
    main()

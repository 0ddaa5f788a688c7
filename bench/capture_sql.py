"""The service's SQL, statement for statement, for each scenario: what the floors must mirror.

    python -m bench.capture_sql [--scale 2000] [--scenarios create_ticket,read_ticket]
    python -m bench.capture_sql --check [--requests 20]

Sets `log_statement = all` on the dataset's database (a database-level setting, reset at the
end), serves it with a fresh one-worker service, sends each scenario's request twice (the
loadgen's own request makers, so the requests are the bench's) and prints the statements of
the second, warm request with their parameters, cut out of the PostgreSQL log.

--check holds the floors to it: two copies of the dataset, the service on one and the
framework floor on the other, the same requests to both; every request's statements must be
the same, one for one, and so must the JSON (times made at request time may differ by
seconds). Run it whenever src/ changes a hot path (bench/README.md, "Floors").
"""

import argparse
import asyncio
import base64
import difflib
import itertools
import json
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.pg import (
    ADMIN_TOKEN,
    DATA_DIR,
    BenchPostgres,
    recreate_database,
    service_env,
    with_database,
)

_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \w+ \[(\d+)\] ", re.MULTILINE)
_STATEMENT = re.compile(r"LOG:  (?:execute [^:]+|statement): (.*)", re.DOTALL)
_PARAMETERS = re.compile(r"DETAIL:  Parameters: (.*)", re.DOTALL)


def log_entries(chunk: str) -> list[str]:
    """The PostgreSQL log cut into entries (each starts with its timestamp)."""
    starts = [m.start() for m in _ENTRY.finditer(chunk)] + [len(chunk)]
    return [chunk[a:b] for a, b in itertools.pairwise(starts)]


def statements(chunk: str) -> list[tuple[str, str | None]]:
    """(statement, parameters) in the order the service sent them."""
    out: list[tuple[str, str | None]] = []
    for entry in log_entries(chunk):
        body = _ENTRY.sub("", entry, count=1).strip()
        found = _STATEMENT.search(body)
        if found:
            out.append((" ".join(found.group(1).split()), None))
            continue
        params = _PARAMETERS.search(body)
        if params and out and out[-1][1] is None:
            out[-1] = (out[-1][0], " ".join(params.group(1).split()))
    return out


def _wait(base: str, service: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise RuntimeError("the service exited before it served")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the service did not answer within 60 s")


@contextmanager
def logged_service(
    pg: BenchPostgres, url: str, settings: dict[str, str], port: int
) -> Iterator[httpx.Client]:
    """A fresh one-worker service whose connections carry ``settings`` (database-level, so
    only its new sessions see them), as an admin client; the settings are reset after."""
    database = urlsplit(url).path.lstrip("/")
    pg.psql(
        " ".join(f"ALTER DATABASE \"{database}\" SET {k} = '{v}';" for k, v in settings.items())
    )
    service = subprocess.Popen(
        [str(Path(sys.executable).parent / "helpdesk-api"), "serve",
         "--port", str(port), "--workers", "1"],
        env=service_env(url),
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base, service)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            yield client
    finally:
        service.terminate()
        service.wait(timeout=30)
        pg.psql(" ".join(f'ALTER DATABASE "{database}" RESET {k};' for k in settings))


_ENDS = ("COMMIT;", "ROLLBACK;")


def logged_request(
    pg: BenchPostgres,
    client: httpx.Client,
    method: str,
    path: str,
    body: Any,
    *,
    until_transaction_end: bool = False,
) -> tuple[httpx.Response, str]:
    """One request and what the PostgreSQL log gained meanwhile.

    The log is written asynchronously: by default this waits 0.3 s for it. With
    ``until_transaction_end`` (statements logged with ``log_statement = all``) it reads as
    soon as the last statement logged is a COMMIT or ROLLBACK and the log has not grown for
    one more poll (a statement sent after the commit would still be caught within it), and
    gives up after 5 s: a fraction of the fixed wait for the check's hundreds of requests."""
    offset = pg.log_path.stat().st_size
    response = client.request(method, path, json=body)
    if not until_transaction_end:
        time.sleep(0.3)
        return response, _read_from(pg, offset)
    deadline = time.monotonic() + 5
    seen = ""
    while True:
        time.sleep(0.03)
        chunk = _read_from(pg, offset)
        sent = statements(chunk)
        ended = bool(sent) and sent[-1][0] in _ENDS
        if (ended and chunk == seen) or time.monotonic() > deadline:
            return response, chunk
        seen = chunk


def _read_from(pg: BenchPostgres, offset: int) -> str:
    with pg.log_path.open("rb") as handle:
        handle.seek(offset)
        return handle.read().decode("utf-8", "replace")


def capture(
    pg: BenchPostgres, url: str, context: dict[str, Any], scenarios: list[str], port: int
) -> dict[str, list[tuple[str, str | None]]]:
    from bench.context import drop_unmerged, prepare_merges
    from bench.loadgen import SCENARIOS, client_context

    found: dict[str, list[tuple[str, str | None]]] = {}
    pairs = asyncio.run(prepare_merges(url, 1, 0, per_client=2))
    with logged_service(pg, url, {"log_statement": "all"}, port) as client:
        for scenario in scenarios:
            rng = random.Random(11)
            ctx = client_context({**context, "merge_pairs": pairs}, 0, 1)
            make = SCENARIOS[scenario]
            method, path, body = make(rng, ctx)
            client.request(method, path, json=body)  # warm
            method, path, body = make(rng, ctx)
            response, chunk = logged_request(
                pg, client, method, path, body, until_transaction_end=True
            )
            if response.status_code >= 400:
                raise RuntimeError(f"{scenario}: {method} {path} {response.status_code}")
            found[f"{scenario}: {method} {path}"] = statements(chunk)
    asyncio.run(drop_unmerged(url, pairs))
    return found


def _same(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON values differ; timestamps may differ by up to 10 s (request times)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in _same(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items against {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _same(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, str) and isinstance(b, str) and a != b:
        if path.endswith("next_cursor"):
            return _same(_cursor(a), _cursor(b), path)
        try:
            apart = abs(datetime.fromisoformat(a) - datetime.fromisoformat(b)).total_seconds()
        except ValueError:
            apart = None
        if apart is not None and apart < 10:
            return []
    return [] if a == b else [f"{path}: {a!r} against {b!r}"]


def _cursor(value: str) -> Any:
    payload = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    payload["v"] = [v["dt"] if isinstance(v, dict) else v for v in payload["v"]]
    return payload


def _problems(
    ours: httpx.Response, sent: list[str], theirs: httpx.Response, mirrored: list[str]
) -> list[str]:
    problems = []
    if ours.status_code != theirs.status_code:
        problems.append(f"status {ours.status_code} against {theirs.status_code}")
    if sent != mirrored:
        diff = difflib.unified_diff(sent, mirrored, "service", "floor", lineterm="")
        problems.append("statements differ:\n" + "\n".join(diff))
    return problems + _same(ours.json(), theirs.json())


def check(
    pg: BenchPostgres, server_url: str, scale: int, scenarios: list[str], port: int, requests: int
) -> int:
    """Service and framework floor on two copies of the dataset; returns the differences."""
    from bench.context import build_context, prepare_merges
    from bench.loadgen import SCENARIOS, client_context
    from bench.measure import stop_process, wait_http

    source = f"helpdesk_bench_{scale}"
    urls = [asyncio.run(recreate_database(server_url, f"bench_check_{side}", source))
            for side in ("service", "floor")]  # fmt: skip
    context = asyncio.run(build_context(urls[0]))
    pairs = [asyncio.run(prepare_merges(url, 1, 0, per_client=requests)) for url in urls]
    floor = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.floor_app:app", "--port", str(port + 1),
         "--log-level", "warning"],
        env=service_env(urls[1]), cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    differences = 0
    try:
        pg.psql("ALTER DATABASE bench_check_floor SET log_statement = 'all';")
        with logged_service(pg, urls[0], {"log_statement": "all"}, port) as service:
            wait_http(f"http://127.0.0.1:{port + 1}/healthz", floor)
            with httpx.Client(base_url=f"http://127.0.0.1:{port + 1}",
                              headers=dict(service.headers), timeout=60) as bare:  # fmt: skip
                for client in (service, bare):  # first connections: the dialect's own queries
                    client.get(f"/v1/tickets/{context['read_ids'][0]}").raise_for_status()
                for scenario in scenarios:
                    sides = [(random.Random(5), client_context({**context, "merge_pairs": p}, 0, 1))
                             for p in pairs]  # fmt: skip
                    codes: dict[int, int] = {}
                    for n in range(requests):
                        answers = []
                        for client, (rng, ctx) in zip((service, bare), sides, strict=True):
                            method, path, body = SCENARIOS[scenario](rng, ctx)
                            response, chunk = logged_request(
                                pg, client, method, path, body, until_transaction_end=True
                            )
                            answers.append((response, [sql for sql, _ in statements(chunk)]))
                        code = answers[0][0].status_code
                        codes[code] = codes.get(code, 0) + 1
                        problems = _problems(*answers[0], *answers[1])
                        if problems:
                            differences += 1
                            print(f"== {scenario} #{n}: {method} {path}")
                            print("\n".join(problems)[:6000])
                    print(f"{scenario}: {requests} requests checked, statuses {codes}", flush=True)
    finally:
        stop_process(floor)
        pg.psql("ALTER DATABASE bench_check_floor RESET log_statement;")
        for name in ("bench_check_service", "bench_check_floor"):
            pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE);")
    return differences


def main() -> None:
    from bench.context import build_context

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=2_000, help="a dataset the bench loaded")
    parser.add_argument("--scenarios", help="default: create_ticket,read_ticket (with --check, "
                        "every scenario with a floor)")  # fmt: skip
    parser.add_argument("--check", action="store_true", help="hold the floors to the service")
    parser.add_argument("--requests", type=int, default=20, help="per scenario, with --check")
    parser.add_argument("--port", type=int, default=18611)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    pg = BenchPostgres(args.data_dir)
    server_url = pg.start()
    url = with_database(server_url, f"helpdesk_bench_{args.scale}")
    try:
        if args.check:
            from bench.run import FLOORED

            chosen = args.scenarios.split(",") if args.scenarios else list(FLOORED)
            differences = check(pg, server_url, args.scale, chosen, args.port, args.requests)
            print(f"{differences} requests differ")
            raise SystemExit(1 if differences else 0)
        context = asyncio.run(build_context(url))
        chosen = (args.scenarios or "create_ticket,read_ticket").split(",")
        found = capture(pg, url, context, chosen, args.port)
    finally:
        pg.stop()
    for request, sent in found.items():
        print(f"== {request}: {len(sent)} statements")
        for n, (sql, params) in enumerate(sent, 1):
            print(f"{n:>3}. {sql}")
            if params:
                print(f"     -- {params}")
        print()


if __name__ == "__main__":
    main()

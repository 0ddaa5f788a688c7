import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "helpdesk_api", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_committed_openapi_document_matches_the_code():
    result = _cli("openapi", "--check")
    assert result.returncode == 0, result.stderr


def test_openapi_check_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "openapi.json"
    stale.write_text(json.dumps({"openapi": "3.1.0"}))
    assert _cli("openapi", "--check", "--path", str(stale)).returncode == 1


async def test_create_admin_prints_a_working_token_last(pg_server, template_ready):
    url = await pg_server.create_database()
    try:
        result = _cli(
            "create-admin",
            "--email",
            "root@example.com",
            "--name",
            "Root",
            env={"DATABASE_URL": url},
        )
        assert result.returncode == 0, result.stderr
        token = result.stdout.strip().splitlines()[-1]
        assert token.startswith("hd_")
        again = _cli("create-admin", "--email", "ROOT@example.com", env={"DATABASE_URL": url})
        assert again.returncode == 1
        assert "already belongs" in again.stderr
    finally:
        await pg_server.drop_database(url)


def _postgres_running_on(pgdata: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(pgdata) in " ".join(cmdline):
            found.append(process)
    return found


def _serve(data_dir: Path, port: int, **env: str) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update({"HELPDESK_DATA_DIR": str(data_dir), "HELPDESK_ACCESS_LOG": "false", **env})
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "helpdesk_api", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(base_url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not become ready")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=30)
    return stdout


def test_serve_on_embedded_postgres_bootstraps_reuses_data_and_leaves_no_orphans(tmp_path):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    first = _serve(tmp_path, port)
    try:
        _wait_ready(base_url, first)
        assert (httpx.get(f"{base_url}/docs")).status_code == 200
    finally:
        stdout = _stop(first)
    token = next(line.strip() for line in stdout.splitlines() if line.strip().startswith("hd_"))
    assert _postgres_running_on(tmp_path / "pgdata") == []

    second = _serve(tmp_path, port)
    try:
        _wait_ready(base_url, second)
        me = httpx.get(f"{base_url}/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["email"] == "admin@localhost"
    finally:
        stdout = _stop(second)
    assert "hd_" not in stdout  # the first token is shown once, on the first start only
    assert _postgres_running_on(tmp_path / "pgdata") == []


def test_bootstrap_token_becomes_the_admins_token(tmp_path):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = _serve(tmp_path, port, HELPDESK_BOOTSTRAP_TOKEN="bootstrap-secret-123")
    try:
        _wait_ready(base_url, process)
        me = httpx.get(
            f"{base_url}/v1/me", headers={"Authorization": "Bearer bootstrap-secret-123"}
        )
        assert me.json()["role"] == "admin"
    finally:
        stdout = _stop(process)
    assert "hd_" not in stdout

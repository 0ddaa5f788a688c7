"""Runs django-helpdesk beside the service: its own virtualenv in bench/.data/peer-venv
(created on first use from the package index), its own database on the bench's PostgreSQL,
its REST API under gunicorn with the same number of workers, DRF token auth."""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.pg import BENCH_DIR, DATA_DIR, recreate_database

PEER_DB = "django_helpdesk_peer"
PACKAGES = ["django-helpdesk==2.6.1", "gunicorn>=23", "psycopg[binary]>=3.2"]


def _venv(data_dir: Path) -> Path:
    venv = data_dir / "peer-venv"
    marker = venv / ".installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *PACKAGES],
            check=True,
        )
        marker.write_text(" ".join(PACKAGES))
    return venv


class Peer:
    def __init__(self, server_url: str, socket_dir: Path, port: int, workers: int,
                 data_dir: Path = DATA_DIR) -> None:  # fmt: skip
        self.venv = _venv(data_dir)
        asyncio.run(recreate_database(server_url, PEER_DB))
        self.env = dict(
            os.environ,
            PEER_DB_HOST=str(socket_dir),
            PEER_DB_NAME=PEER_DB,
            DJANGO_SETTINGS_MODULE="bench.peer.settings",
            PYTHONPATH=str(BENCH_DIR.parent),
        )
        self.python = python = str(self.venv / "bin" / "python")
        subprocess.run(
            [python, "-m", "django", "migrate", "--noinput"],
            env=self.env, check=True, capture_output=True, cwd=BENCH_DIR.parent,
        )  # fmt: skip
        seeded = subprocess.run(
            [python, "-m", "bench.peer.seed"],
            env=self.env, check=True, capture_output=True, text=True, cwd=BENCH_DIR.parent,
        )  # fmt: skip
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        self.token: str = seed["token"]
        self.queue: int = seed["queue"]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [str(self.venv / "bin" / "gunicorn"), "bench.peer.wsgi:application",
             "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning"],
            env=self.env, cwd=BENCH_DIR.parent,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                headers = {"Authorization": f"Token {self.token}"}
                if httpx.get(f"{self.url}/api/tickets/?page_size=1", headers=headers).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("django-helpdesk did not start")

    def fill(self, tickets: int) -> dict[str, int]:
        """Exactly ``tickets`` tickets in its table (bench/peer/fill.py)."""
        out = subprocess.run(
            [self.python, "-m", "bench.peer.fill", str(tickets)],
            env=self.env, check=True, capture_output=True, text=True, cwd=BENCH_DIR.parent,
        )  # fmt: skip
        filled: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
        return filled

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

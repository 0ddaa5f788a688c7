"""A real `helpdesk-api serve` process, for tests where a process boundary matters."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


READY_SECONDS = 90


@contextmanager
def running_server(database_url: str, **env: str) -> Iterator[str]:
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HELPDESK_RATE_LIMIT_PER_MINUTE": "0",
        "HELPDESK_ACCESS_LOG": "false",
        "HELPDESK_DATA_DIR": tempfile.mkdtemp(prefix="helpdesk-live-"),
        **env,
    }
    process = subprocess.Popen(  # noqa: S603 — our own console script
        [sys.executable, "-m", "helpdesk_api", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        # A hang detector, not a speed check: a loaded machine has taken over 30 s to start one.
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not become ready in {READY_SECONDS} s")
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()

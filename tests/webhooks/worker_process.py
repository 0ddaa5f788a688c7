"""Real `helpdesk-api worker` processes for delivery tests."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def start_worker(database_url: str, **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HELPDESK_WEBHOOK_ALLOW_PRIVATE": "1",
        "HELPDESK_WEBHOOK_RETRY_SCHEDULE": "1,1,1",
        "HELPDESK_WEBHOOK_TIMEOUT_SECONDS": "2",
        "HELPDESK_WORKER_POLL_SECONDS": "0.5",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "helpdesk_api", "worker"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop_worker(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def running_worker(database_url: str, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    process = start_worker(database_url, **env)
    try:
        yield process
    finally:
        stop_worker(process)

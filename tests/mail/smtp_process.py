"""A real `helpdesk-api smtp` process, listening on a free port of its own."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from tests.live_server import free_port


@dataclass
class SmtpProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> int:
        """SIGTERM, and the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def _wait_listening(smtp: SmtpProcess) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if smtp.process.poll() is not None:
            raise RuntimeError(f"helpdesk-api smtp exited:\n{smtp.output()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", smtp.port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("helpdesk-api smtp did not listen within 30 s")


@contextmanager
def running_smtp(database_url: str, **env: str) -> Iterator[SmtpProcess]:
    port = free_port()
    # A file, not a pipe: a pipe nobody reads would block a chatty process.
    with (
        tempfile.TemporaryDirectory(prefix="helpdesk-smtp-") as data_dir,
        tempfile.TemporaryFile() as log,
    ):
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "HELPDESK_SMTP_LISTEN_HOST": "127.0.0.1",
            "HELPDESK_SMTP_LISTEN_PORT": str(port),
            "HELPDESK_DATA_DIR": data_dir,
            **env,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "helpdesk_api", "smtp"],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        smtp = SmtpProcess(process, port, log)
        try:
            _wait_listening(smtp)
            yield smtp
        finally:
            smtp.stop()

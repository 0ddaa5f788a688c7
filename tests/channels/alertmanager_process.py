"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``), configured to post
to one channel of a running service. `make test` installs it when missing
(``make alertmanager``)."""

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.live_server import free_port

CONFIG = """\
route:
  receiver: helpdesk
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: helpdesk
    webhook_configs:
      - url: {url}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {secret}
"""


def _binary() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found is None:
        pytest.fail(
            "prometheus-alertmanager is not installed: `make alertmanager` (or `make test`) "
            "installs it"
        )
    return found


@contextmanager
def running_alertmanager(webhook_url: str, secret: str) -> Iterator[str]:
    binary = _binary()
    root = Path(tempfile.mkdtemp(prefix="helpdesk-alertmanager-"))
    (root / "alertmanager.yml").write_text(CONFIG.format(url=webhook_url, secret=secret))
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 — the distribution's binary
        [
            binary,
            f"--config.file={root / 'alertmanager.yml'}",
            f"--storage.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # alone: no gossip port
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"alertmanager exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base_url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("alertmanager did not become ready in 20 s")
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)

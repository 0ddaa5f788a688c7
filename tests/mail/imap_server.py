"""A private dovecot (Debian's dovecot-imapd, 2.3) for the IMAP tests, started once per session.

It listens on 127.0.0.1 at a free port, plaintext, without TLS. Every user name logs in with
``PASSWORD`` (a static passdb) and gets a maildir of its own, made on first login, so each
test takes a fresh user and sees only its own mail. All of dovecot's files live in a
temporary directory; started as root it runs its processes and owns the mail as ``nobody``.

`make test` installs dovecot when it is missing (``make dovecot``).
"""

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted

from tests.live_server import free_port

PASSWORD = "secret"
_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{root}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
# No growing delays after failed logins (the tests fail some on purpose), and no chroot
# (which only root may do).
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int

    def new_user(self) -> str:
        return f"user-{uuid.uuid4().hex[:12]}"

    def login(self, user: str) -> MailBoxUnencrypted:
        mailbox = MailBoxUnencrypted(self.host, self.port, timeout=10)
        mailbox.login(user, PASSWORD, initial_folder=None)
        return mailbox

    def append(self, user: str, *messages: bytes, folder: str = "INBOX") -> None:
        with self.login(user) as mailbox:
            if not mailbox.folder.exists(folder):
                mailbox.folder.create(folder)
            for raw in messages:
                mailbox.append(raw, folder)

    def flags(self, user: str, folder: str = "INBOX") -> dict[int, set[str]]:
        """The flags of each message in ``folder``, by UID."""
        with self.login(user) as mailbox:
            if not mailbox.folder.exists(folder):
                return {}
            mailbox.folder.set(folder)
            return {
                int(message.uid or 0): set(message.flags)
                for message in mailbox.fetch(mark_seen=False, headers_only=True)
            }


def _dovecot() -> str:
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail("dovecot is not installed: `make dovecot` (or `make test`) installs it")
    return found


def _owner() -> tuple[str, str, int, int]:
    """Who dovecot's processes and the mail run as: nobody under root, else ourselves."""
    user = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    return user.pw_name, grp.getgrgid(user.pw_gid).gr_name, user.pw_uid, user.pw_gid


def _wait_for_greeting(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                if connection.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.02)
    output = process.stdout.read().decode() if process.poll() is not None and process.stdout else ""
    logged = log.read_text() if log.exists() else ""
    pytest.fail(f"dovecot did not start:\n{output}\n{logged}")


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    dovecot = _dovecot()
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    root.chmod(0o755)  # the mail processes run as the mail user
    user, group, uid, gid = _owner()
    mail = root / "mail"
    mail.mkdir()
    os.chown(mail, uid, gid)
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(
        _CONFIG.format(
            root=root, user=user, group=group, uid=uid, gid=gid, port=port, password=PASSWORD
        )
    )
    process = subprocess.Popen(  # noqa: S603
        [dovecot, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_greeting(port, process, root / "dovecot.log")
        yield ImapServer("127.0.0.1", port)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(root, ignore_errors=True)

"""The blocking half of IMAP polling: one conversation with one mailbox's server (imap-tools
over imaplib), called from the worker's event loop through ``asyncio.to_thread``, one step
at a time.

Messages are read with ``UID FETCH … (BODY.PEEK[])``: the bytes exactly as the server holds
them (not a re-serialisation by the ``email`` package), and without setting ``\\Seen``, so
nothing changes on the server until the caller has stored them and calls ``archive``.
"""

import contextlib
import logging
import re
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.utils import encode_folder

from helpdesk_api.models import ImapSecurity

logger = logging.getLogger("helpdesk_api.mail.imap")
DEFAULT_PORTS = {ImapSecurity.ssl: 993, ImapSecurity.starttls: 143, ImapSecurity.none: 143}
_NEW_FETCH_RESPONSE = re.compile(rb"\d+ \(")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


class ImapCommandFailed(Exception):
    """The server answered NO or BAD (or nothing usable) to a command."""


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int | None
    security: str
    username: str
    password: str
    folder: str


def _check(result: tuple[str, Any], what: str) -> Any:
    status, data = result
    if status != "OK":
        raise ImapCommandFailed(f"{what}: {status} {data!r}"[:500])
    return data


def _folder(name: str) -> str:
    """A folder name as a command argument: modified UTF-7, quoted."""
    return encode_folder(name).decode("ascii")


def _fetch_responses(data: Sequence[Any]) -> list[tuple[bytes, bytes | None]]:
    """Each FETCH response as (its text without the literal, the literal or None).

    imaplib returns a response with a literal as ``(text before it, literal)`` followed by
    the text after it (``b')'`` or ``b' UID 7)'``), and one without as plain bytes."""
    responses: list[tuple[bytes, bytes | None]] = []
    for item in data:
        if isinstance(item, tuple):
            responses.append((bytes(item[0]), bytes(item[1])))
        elif isinstance(item, bytes):
            if responses and not _NEW_FETCH_RESPONSE.match(item):
                text, literal = responses[-1]
                responses[-1] = (text + item, literal)
            else:
                responses.append((item, None))
    return responses


def _words(lines: Sequence[Any]) -> list[str]:
    """The words of untagged responses (one, or one per time the server sent it)."""
    return [
        word.upper()
        for line in lines
        if isinstance(line, bytes)
        for word in line.decode("ascii", "replace").split()
    ]


def _uid_set(uids: Sequence[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def _connect(account: ImapAccount, timeout: float) -> BaseMailBox:
    security = ImapSecurity(account.security)
    port = account.port or DEFAULT_PORTS[security]
    if security is ImapSecurity.none:
        return MailBoxUnencrypted(account.host, port, timeout=timeout)
    # imaplib verifies nothing unless it is given a context that does.
    context = ssl.create_default_context()
    if security is ImapSecurity.starttls:
        return MailBoxStartTls(account.host, port, timeout=timeout, ssl_context=context)
    return MailBox(account.host, port, timeout=timeout, ssl_context=context)


class ImapConnection:
    """Logged in, with the account's folder selected."""

    def __init__(
        self, mailbox: BaseMailBox, uid_validity: int, capabilities: frozenset[str]
    ) -> None:
        self.mailbox = mailbox
        self.uid_validity = uid_validity
        self.capabilities = capabilities

    @classmethod
    def open(cls, account: ImapAccount, *, timeout: float) -> "ImapConnection":
        mailbox = _connect(account, timeout)
        try:
            if account.username.isascii() and account.password.isascii():
                mailbox.login(account.username, account.password, initial_folder=None)
            else:
                mailbox.login_utf8(account.username, account.password, initial_folder=None)
            # The capabilities imaplib read on connecting are those before login.
            capabilities = frozenset(_words(_check(mailbox.client.capability(), "CAPABILITY")))
            mailbox.folder.set(account.folder)
            _, values = mailbox.client.response("UIDVALIDITY")
            validity = values[-1] if values else None
            if validity is None:
                raise ImapCommandFailed(f"SELECT {account.folder}: no UIDVALIDITY")
            return cls(mailbox, int(validity), capabilities)
        except BaseException:
            with contextlib.suppress(OSError):
                mailbox.client.shutdown()
            raise

    def uids_after(self, last_uid: int) -> list[int]:
        """The UIDs above ``last_uid`` in the selected folder, in ascending order."""
        found = _words(_check(self.mailbox.client.uid("SEARCH", f"UID {last_uid + 1}:*"), "SEARCH"))
        # "n:*" always matches the highest UID, even one below n.
        return sorted(uid for uid in map(int, found) if uid > last_uid)

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        data = _check(
            self.mailbox.client.uid("FETCH", _uid_set(uids), "(UID RFC822.SIZE)"), "FETCH"
        )
        sizes = {}
        for text, _ in _fetch_responses(data):
            uid, size = _UID.search(text), _SIZE.search(text)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The raw messages (a UID expunged meanwhile is simply missing)."""
        data = _check(
            self.mailbox.client.uid("FETCH", _uid_set(uids), "(UID BODY.PEEK[])"), "FETCH"
        )
        wanted = set(uids)
        messages = {}
        for text, literal in _fetch_responses(data):
            uid = _UID.search(text)
            if uid and literal is not None and int(uid.group(1)) in wanted:
                messages[int(uid.group(1))] = literal
        return messages

    def ensure_folder(self, name: str) -> None:
        if not self.mailbox.folder.exists(name):
            self.mailbox.folder.create(name)

    def archive(self, uids: Sequence[int], folder: str | None) -> None:
        """Move the messages to ``folder``, or with None flag them ``\\Seen`` where they are."""
        if not uids:
            return
        client, uid_set = self.mailbox.client, _uid_set(uids)
        if folder is None:
            _check(client.uid("STORE", uid_set, "+FLAGS.SILENT", "(\\Seen)"), "STORE")
        elif "MOVE" in self.capabilities:
            _check(client.uid("MOVE", uid_set, _folder(folder)), "MOVE")
        else:
            _check(client.uid("COPY", uid_set, _folder(folder)), "COPY")
            _check(client.uid("STORE", uid_set, "+FLAGS.SILENT", "(\\Deleted)"), "STORE")
            # Without UIDPLUS, EXPUNGE also removes what someone else marked deleted.
            if "UIDPLUS" in self.capabilities:
                _check(client.uid("EXPUNGE", uid_set), "EXPUNGE")
            else:
                _check(client.expunge(), "EXPUNGE")

    def close(self) -> None:
        try:
            self.mailbox.logout()
        except Exception:  # a server that went away needs no goodbye
            with contextlib.suppress(OSError):
                self.mailbox.client.shutdown()


_NEW_MAIL = re.compile(rb"\* \d+ (EXISTS|RECENT)\b", re.IGNORECASE)


def _has_new_mail(lines: Sequence[Any]) -> bool:
    return any(isinstance(line, bytes) and _NEW_MAIL.match(line) for line in lines)


class ImapIdler:
    """A connection of one mailbox's own, in a thread of its own, waiting in IDLE (RFC 2177)
    and calling ``on_new_mail`` (from that thread) when the server reports new messages.

    IDLE is ended with DONE and issued again every ``renew_seconds`` (the RFC asks for less
    than 29 minutes). A connection that fails or drops is opened again after a growing pause
    (``retry_seconds`` doubling up to ``max_retry_seconds``), and each new connection calls
    ``on_new_mail`` once, since mail may have arrived while there was none. ``stop`` ends it
    promptly from any thread by shutting the socket down under the waiting thread.
    """

    def __init__(
        self,
        account: ImapAccount,
        on_new_mail: Callable[[], None],
        *,
        timeout: float,
        renew_seconds: float,
        retry_seconds: float,
        max_retry_seconds: float,
        name: str,
    ) -> None:
        self.account = account
        self._on_new_mail = on_new_mail
        self._timeout = timeout
        self._renew_seconds = renew_seconds
        self._retry_seconds = retry_seconds
        self._max_retry_seconds = max_retry_seconds
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._connection: ImapConnection | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end, and wake it if it waits on the server; does not block."""
        self._stopped.set()
        with self._lock:
            connection = self._connection
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.mailbox.client.sock.shutdown(socket.SHUT_RDWR)

    def join(self, timeout: float) -> bool:
        """Whether the thread has ended (within ``timeout`` seconds)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            connection: ImapConnection | None = None
            try:
                connection = ImapConnection.open(self.account, timeout=self._timeout)
                with self._lock:
                    self._connection = connection
                if self._stopped.is_set():
                    break
                if "IDLE" not in connection.capabilities:
                    raise ImapCommandFailed("the server no longer offers IDLE")
                self._on_new_mail()
                while not self._stopped.is_set():
                    if self._wait(connection):
                        self._on_new_mail()
                    failures = 0
            except Exception as exc:
                if self._stopped.is_set():
                    break
                failures += 1
                logger.warning(
                    "imap idle connection failed",
                    extra={"thread": self._thread.name, "error": repr(exc)[:500]},
                )
            finally:
                with self._lock:
                    self._connection = None
                if connection is not None:
                    connection.close()
            pause = self._retry_seconds * 2 ** max(failures - 1, 0)
            self._stopped.wait(min(pause, self._max_retry_seconds))

    def _wait(self, connection: ImapConnection) -> bool:
        """One IDLE, until the server reports something or it is time to renew it; whether
        what it reported includes new messages."""
        idle = connection.mailbox.idle
        idle.start()  # type: ignore[no-untyped-call]
        lines = idle.poll(timeout=self._renew_seconds)
        if self._stopped.is_set():  # woken by stop(): the socket is gone, no DONE to send
            return False
        _, more = idle.stop()  # type: ignore[no-untyped-call]
        return _has_new_mail(lines) or _has_new_mail(more)

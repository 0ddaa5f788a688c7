"""`helpdesk-api smtp`: mail for the mailboxes' addresses, received over SMTP (aiosmtpd).

A message is acknowledged (250) only after the transaction that stored it has committed; a
database that fails or cannot be reached gets a temporary 451, so the sending MTA keeps the
message and tries again, and nothing acknowledged is ever lost. Repeats (an MTA that did not
see our 250) are recognised by their Message-ID in ``intake.receive`` and answered 250 again.

Recipients are checked at RCPT against the active mailboxes' addresses (read at most every
few seconds), so mail for anyone else is refused before its data is sent (550); a mailbox's
``support+anything@`` reaches ``support@``. One message addressed to several mailboxes is
stored once, for the first of them, with every recipient in its envelope.

AUTH is required when ``smtp_listen_username`` is set; STARTTLS is offered when a certificate
and key are set, and AUTH is then accepted only after STARTTLS. AUTH without TLS configured
works (for a listener on a private network or behind a TLS-terminating proxy) but is logged
as a warning at start. STARTTLS itself is offered, never required: a public MX must accept
mail from senders that do not speak TLS (RFC 3207).

On SIGTERM the listener stops accepting connections, tells idle clients 421 and hangs up,
and lets a transaction in flight (MAIL through the reply to DATA) finish for at most
``shutdown_timeout_seconds``; what is cut off after that was not acknowledged either.
"""

import asyncio
import contextlib
import hmac
import logging
import signal
import socket
import ssl
import warnings
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.smtp import SMTP, AuthenticatorType, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.core.errors import is_database_outage
from helpdesk_api.core.settings import Settings
from helpdesk_api.mail.intake import Received, receive
from helpdesk_api.models import EmailChannel, InboundSource

logger = logging.getLogger("helpdesk_api.mail.smtp")

# How long the set of mailbox addresses is trusted before RCPT reads it again.
ADDRESS_CACHE_SECONDS = 5.0
MAX_RECIPIENTS = 100
# aiosmtpd closes a connection that sends no command for this long.
IDLE_TIMEOUT_SECONDS = 300.0
# Failed AUTH attempts allowed on one connection before it is closed.
AUTH_ATTEMPTS_PER_CONNECTION = 5

OK = "250 OK"
TRY_AGAIN = "451 4.3.0 try again later"
UNKNOWN_MAILBOX = "550 5.1.1 mailbox unavailable"
TOO_MANY_RECIPIENTS = "452 4.5.3 too many recipients"
SHUTTING_DOWN = "421 4.3.2 service shutting down, try again later"


class ListenerConfigError(ValueError):
    """The settings ask for something the listener cannot do."""


def mailbox_candidates(recipient: str) -> tuple[str, ...]:
    """The mailbox addresses a recipient may stand for, the most specific first: the address
    itself, lower-cased, then (for ``name+tag@domain``) the address without its tag."""
    address = recipient.strip().lower()
    local, at, domain = address.rpartition("@")
    base, plus, _tag = local.partition("+")
    if at and plus and base:
        return (address, f"{base}@{domain}")
    return (address,)


def resolve_mailbox(recipient: str, addresses: Collection[str]) -> str | None:
    """The mailbox address ``recipient`` reaches, or None."""
    return next((c for c in mailbox_candidates(recipient) if c in addresses), None)


class MailboxDirectory:
    """The active mailboxes' addresses, read from the database at most every ``ttl`` seconds,
    so that every RCPT is not a query. A mailbox added or deactivated shows within ``ttl``."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        ttl: float = ADDRESS_CACHE_SECONDS,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._ttl = ttl
        self._addresses: frozenset[str] = frozenset()
        self._expires_at = float("-inf")
        self._lock = asyncio.Lock()

    async def addresses(self) -> frozenset[str]:
        loop = asyncio.get_running_loop()
        if loop.time() < self._expires_at:
            return self._addresses
        async with self._lock:  # one query for all the RCPTs that arrive meanwhile
            if loop.time() < self._expires_at:
                return self._addresses
            async with self._sessionmaker() as session:
                rows = await session.scalars(
                    select(EmailChannel.address).where(EmailChannel.is_active)
                )
                self._addresses = frozenset(address.lower() for address in rows)
            self._expires_at = loop.time() + self._ttl
        return self._addresses


def _peer(session: Session | None) -> str | None:
    if session is None or not session.peer:
        return None
    if isinstance(session.peer, tuple):
        return f"{session.peer[0]}:{session.peer[1]}"
    return str(session.peer)


def _log_database_failure(message: str, exc: BaseException, **extra: Any) -> None:
    if is_database_outage(exc):
        logger.warning(message, extra={"error": repr(exc), **extra})
    else:
        logger.error(message, exc_info=exc, extra=extra)


class MailHandler:
    """aiosmtpd's handler: which recipients are ours, and storing what they are sent."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        directory: MailboxDirectory,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.directory = directory
        self.stopping = False

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.stopping:
            return SHUTTING_DOWN
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return OK

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return TOO_MANY_RECIPIENTS
        try:
            addresses = await self.directory.addresses()
        except Exception as exc:
            _log_database_failure("cannot read the mailboxes' addresses", exc)
            return TRY_AGAIN
        if resolve_mailbox(address, addresses) is None:
            return UNKNOWN_MAILBOX
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            received = await self._store(raw, envelope)
        except Exception as exc:
            _log_database_failure("inbound mail not stored", exc, peer=_peer(session))
            return TRY_AGAIN
        if received is None:  # every mailbox it was for was deactivated since RCPT
            return UNKNOWN_MAILBOX
        logger.info(
            "inbound mail stored",
            extra={
                "inbound_email_id": received.email.id,
                "duplicate": received.duplicate,
                "size": len(raw),
                "peer": _peer(session),
            },
        )
        return OK

    async def _store(self, raw: bytes, envelope: Envelope) -> Received | None:
        recipients = envelope.rcpt_tos
        candidates = {c for rcpt in recipients for c in mailbox_candidates(rcpt)}
        async with self.sessionmaker() as db:
            channels = {
                channel.address: channel
                for channel in await db.scalars(
                    select(EmailChannel).where(
                        EmailChannel.address.in_(candidates), EmailChannel.is_active
                    )
                )
            }
            addresses = [resolve_mailbox(rcpt, channels) for rcpt in recipients]
            channel = next((channels[a] for a in addresses if a is not None), None)
            if channel is None:
                return None
            received = await receive(
                db,
                raw=raw,
                source=InboundSource.smtp,
                channel=channel,
                settings=self.settings,
                now=datetime.now(UTC),
                envelope_from=envelope.mail_from,
                envelope_to=tuple(recipients),
            )
            await db.commit()
        return received

    async def handle_exception(self, error: Exception) -> str:
        # Whatever went wrong, the message was not acknowledged: the sender may try again.
        logger.error("smtp session failed", exc_info=error)
        return TRY_AGAIN


class _Connection(SMTP):
    """One client's connection, known to the listener so that a shutdown can wait for it."""

    def __init__(self, open_connections: set["_Connection"], handler: Any, **options: Any) -> None:
        self._open_connections = open_connections
        super().__init__(handler, **options)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._open_connections.add(self)

    def connection_lost(self, error: Exception | None) -> None:
        self._open_connections.discard(self)
        super().connection_lost(error)

    @property
    def in_transaction(self) -> bool:
        """Between an accepted MAIL and the reply to its DATA (the envelope is new after it)."""
        return self.envelope is not None and self.envelope.mail_from is not None

    def hang_up(self, reply: str | None = None) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if reply is not None and isinstance(transport, asyncio.WriteTransport):
            transport.write(reply.encode() + b"\r\n")
        transport.close()


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    cert, key = settings.smtp_tls_cert_file, settings.smtp_tls_key_file
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ListenerConfigError(
            "STARTTLS needs both HELPDESK_SMTP_TLS_CERT_FILE and HELPDESK_SMTP_TLS_KEY_FILE"
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ListenerConfigError(f"cannot load the TLS certificate and key: {exc}") from exc
    return context


def _authenticator(username: str, password: str) -> AuthenticatorType:
    expected_login, expected_password = username.encode(), password.encode()

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        # Both compared, always, in constant time: a wrong login takes as long as a wrong password.
        login_ok = hmac.compare_digest(auth_data.login, expected_login)
        password_ok = hmac.compare_digest(auth_data.password, expected_password)
        return AuthResult(success=login_ok and password_ok, handled=False)

    return authenticate


class SmtpListener:
    """The SMTP server on the running event loop, one ``_Connection`` per client."""

    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.handler = MailHandler(settings, sessionmaker, MailboxDirectory(sessionmaker))
        self.connections: set[_Connection] = set()
        self._server: asyncio.Server | None = None
        self._options = self._smtp_options(settings)

    @staticmethod
    def _smtp_options(settings: Settings) -> dict[str, Any]:
        tls_context = _tls_context(settings)
        options: dict[str, Any] = {
            "data_size_limit": settings.smtp_max_message_bytes,
            "enable_SMTPUTF8": True,
            "tls_context": tls_context,
            "timeout": IDLE_TIMEOUT_SECONDS,
            "ident": "helpdesk-api",
            "command_call_limit": {"AUTH": AUTH_ATTEMPTS_PER_CONNECTION, "*": 1_000_000},
        }
        if settings.smtp_listen_username:
            if not settings.smtp_listen_password:
                raise ListenerConfigError(
                    "HELPDESK_SMTP_LISTEN_USERNAME needs HELPDESK_SMTP_LISTEN_PASSWORD"
                )
            options |= {
                "auth_required": True,
                "auth_require_tls": tls_context is not None,
                "authenticator": _authenticator(
                    settings.smtp_listen_username, settings.smtp_listen_password
                ),
            }
        return options

    async def start(self) -> int:
        """Listen; return the port (the one the OS chose when the setting is 0)."""
        loop = asyncio.get_running_loop()
        # aiosmtpd would look the name up again for every connection.
        hostname = await asyncio.to_thread(socket.getfqdn)
        options = {**self._options, "hostname": hostname, "loop": loop}
        self._server = await loop.create_server(
            lambda: _Connection(self.connections, self.handler, **options),
            host=self.settings.smtp_listen_host,
            port=self.settings.smtp_listen_port,
        )
        port: int = self._server.sockets[0].getsockname()[1]
        if self._options.get("auth_required") and self._options["tls_context"] is None:
            logger.warning(
                "smtp AUTH is required without TLS: the password crosses the network in clear"
            )
        logger.info(
            "smtp listening",
            extra={
                "host": self.settings.smtp_listen_host,
                "port": port,
                "auth": bool(self._options.get("auth_required")),
                "starttls": self._options["tls_context"] is not None,
            },
        )
        return port

    async def stop(self, grace_seconds: float) -> None:
        """Stop accepting; let transactions in flight finish within ``grace_seconds``; hang up."""
        if self._server is None:
            return
        self._server.close()
        self.handler.stopping = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_seconds
        while self.connections and loop.time() < deadline:
            for connection in list(self.connections):
                if not connection.in_transaction:
                    connection.hang_up(SHUTTING_DOWN)
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            if connection.in_transaction:  # not acknowledged: the sender will try again
                logger.warning(
                    "smtp transaction cut off by shutdown",
                    extra={"peer": _peer(connection.session)},
                )
            connection.hang_up()
        await self._server.wait_closed()
        logger.info("smtp stopped")


# aiosmtpd warns about these on every connection (or every login) it serves.
_AIOSMTPD_NOISE = (
    "auth_require_tls == False",  # the listener warns once, at start
    "Session.login_data is deprecated",  # aiosmtpd itself sets it on every AUTH
)


class _WithoutNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(noise in message for noise in _AIOSMTPD_NOISE)


def _quiet_aiosmtpd() -> None:
    # aiosmtpd logs every command at INFO; the handler logs each message it stores instead.
    aiosmtpd_log = logging.getLogger("mail.log")
    aiosmtpd_log.setLevel(logging.WARNING)
    aiosmtpd_log.addFilter(_WithoutNoise())
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")


async def run_smtp(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop`` (or SIGTERM/SIGINT); sessions come from the assembly's ``connect``."""
    _quiet_aiosmtpd()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    listener = SmtpListener(settings, sessionmaker)
    await listener.start()
    await stop.wait()
    await listener.stop(settings.shutdown_timeout_seconds)

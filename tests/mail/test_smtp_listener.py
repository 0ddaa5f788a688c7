"""`helpdesk-api smtp` as a sending MTA sees it: a real process, spoken to with smtplib.

Starting the process costs ~3 s, so the tests that need no settings of their own share one
listener, on a database of this module's, with its mailboxes made before it starts (the
listener reads the addresses at most every few seconds); each such test sends messages of
its own and looks only at those.
"""

import asyncio
import shutil
import signal
import smtplib
import ssl
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from helpdesk_api.core.db import to_libpq_url
from helpdesk_api.mail.smtp_listener import mailbox_candidates
from helpdesk_api.models import EmailChannel
from tests.live_server import free_port
from tests.mail.factories import inbound_emails, make_mailbox
from tests.mail.smtp_process import SmtpProcess, running_smtp

SIZE_LIMIT = 64 * 1024


def make_message(*, to: str = "support@example.test") -> tuple[str, bytes]:
    """A Message-ID (as stored) and a message that carries it."""
    message_id = f"{uuid.uuid4().hex}@customer.example"
    raw = (
        "From: Customer <customer@example.com>\r\n"
        f"To: {to}\r\n"
        "Subject: The printer is on fire\r\n"
        f"Message-ID: <{message_id}>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Grüße,\r\n"
        ".a line that starts with a dot\r\n"
        "\r\n"
    ).encode()
    return message_id, raw


def deliver(
    port: int,
    raw: bytes,
    recipients: Sequence[str] = ("support@example.test",),
    *,
    sender: str = "customer@example.com",
    login: tuple[str, str] | None = None,
) -> tuple[list[int], int | None]:
    """The reply codes to each RCPT and to DATA (None when no recipient was accepted)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("mta.example")
        if login:
            client.login(*login)
        code, reply = client.mail(sender, ["BODY=8BITMIME"])
        assert code == 250, reply
        rcpt_codes = [client.rcpt(recipient)[0] for recipient in recipients]
        if 250 not in rcpt_codes:
            return rcpt_codes, None
        return rcpt_codes, client.data(raw)[0]


@dataclass
class Shared:
    smtp: SmtpProcess
    database_url: str
    support: EmailChannel
    billing: EmailChannel


@pytest.fixture(scope="module")
async def shared_mailboxes(module_database: str) -> tuple[EmailChannel, EmailChannel]:
    support = await make_mailbox(module_database, address="support@example.test")
    billing = await make_mailbox(module_database, address="Billing@Example.test")
    await make_mailbox(module_database, address="closed@example.test", is_active=False)
    return support, billing


@pytest.fixture(scope="module")
def shared(
    module_database: str, shared_mailboxes: tuple[EmailChannel, EmailChannel]
) -> Iterator[Shared]:
    env = {"HELPDESK_SMTP_MAX_MESSAGE_BYTES": str(SIZE_LIMIT)}
    with running_smtp(module_database, **env) as smtp:
        yield Shared(smtp, module_database, *shared_mailboxes)


async def test_mail_to_a_mailbox_is_acknowledged_and_stored_byte_for_byte(shared):
    message_id, raw = make_message()
    assert deliver(shared.smtp.port, raw) == ([250], 250)
    [row] = await inbound_emails(shared.database_url, message_id=message_id)
    assert row["raw"] == raw
    assert row["channel_id"] == shared.support.id
    assert row["source"] == "smtp"
    assert row["envelope_from"] == "customer@example.com"
    assert row["envelope_to"] == ["support@example.test"]


async def test_recipients_match_without_case_and_with_a_plus_tag(shared):
    message_id, raw = make_message()
    recipients = ["Billing+Urgent@EXAMPLE.test", "support@example.test"]
    assert deliver(shared.smtp.port, raw, recipients) == ([250, 250], 250)
    # Stored once, for the first mailbox, with every recipient of the envelope.
    [row] = await inbound_emails(shared.database_url, message_id=message_id)
    assert row["channel_id"] == shared.billing.id
    assert row["envelope_to"] == recipients


def test_a_plus_tag_is_tried_after_the_address_itself():
    assert mailbox_candidates("A+b@X.test") == ("a+b@x.test", "a@x.test")
    assert mailbox_candidates("+b@x.test") == ("+b@x.test",)
    assert mailbox_candidates("plain@x.test") == ("plain@x.test",)


async def test_unknown_or_inactive_recipients_are_refused_at_rcpt(shared):
    message_id, raw = make_message()
    recipients = ["someone@example.test", "closed@example.test", "support@other.test"]
    assert deliver(shared.smtp.port, raw, recipients) == ([550, 550, 550], None)
    assert await inbound_emails(shared.database_url, message_id=message_id) == []


async def test_a_message_over_the_size_limit_is_refused_at_data(shared):
    message_id, raw = make_message()
    oversized = raw + (b"y" * 78 + b"\r\n") * (SIZE_LIMIT // 80 + 1)
    assert deliver(shared.smtp.port, oversized) == ([250], 552)
    assert await inbound_emails(shared.database_url, message_id=message_id) == []


async def test_the_same_message_twice_is_acknowledged_twice_and_stored_once(shared):
    message_id, raw = make_message()
    assert deliver(shared.smtp.port, raw) == ([250], 250)
    assert deliver(shared.smtp.port, raw) == ([250], 250)
    assert len(await inbound_emails(shared.database_url, message_id=message_id)) == 1


async def test_auth_is_required_when_a_username_is_configured(database_url):
    await make_mailbox(database_url, address="support@example.test")
    env = {"HELPDESK_SMTP_LISTEN_USERNAME": "relay", "HELPDESK_SMTP_LISTEN_PASSWORD": "s3cret"}
    _, raw = make_message()
    with running_smtp(database_url, **env) as smtp:
        with smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as client:
            client.ehlo("mta.example")
            assert client.mail("customer@example.com")[0] == 530
            with pytest.raises(smtplib.SMTPAuthenticationError):
                client.login("relay", "wrong")
        assert deliver(smtp.port, raw, login=("relay", "s3cret")) == ([250], 250)
    assert len(await inbound_emails(database_url)) == 1


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(  # noqa: S603
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_with_a_certificate_auth_waits_for_starttls(database_url, tmp_path):
    await make_mailbox(database_url, address="support@example.test")
    cert, key = self_signed_certificate(tmp_path)
    env = {
        "HELPDESK_SMTP_LISTEN_USERNAME": "relay",
        "HELPDESK_SMTP_LISTEN_PASSWORD": "s3cret",
        "HELPDESK_SMTP_TLS_CERT_FILE": str(cert),
        "HELPDESK_SMTP_TLS_KEY_FILE": str(key),
    }
    _, raw = make_message()
    with (
        running_smtp(database_url, **env) as smtp,
        smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as client,
    ):
        client.ehlo("mta.example")
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        assert client.docmd("AUTH", "PLAIN AHJlbGF5AHMzY3JldA==")[0] == 538
        client.starttls(context=ssl.create_default_context(cafile=cert))
        client.ehlo("mta.example")
        client.login("relay", "s3cret")
        assert client.mail("customer@example.com")[0] == 250
        assert client.rcpt("support@example.test")[0] == 250
        assert client.data(raw)[0] == 250
    [row] = await inbound_emails(database_url)
    assert row["raw"] == raw


@pytest.mark.alters_schema
async def test_a_database_that_refuses_the_write_gets_451_and_the_retry_is_stored(database_url):
    await make_mailbox(database_url, address="support@example.test")
    _, raw = make_message()
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        await connection.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk full, say'; END $$;"
            "CREATE TRIGGER refuse BEFORE INSERT ON inbound_emails "
            "FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
        with running_smtp(database_url) as smtp:
            assert deliver(smtp.port, raw) == ([250], 451)
            await connection.execute("DROP TRIGGER refuse ON inbound_emails")
            assert deliver(smtp.port, raw) == ([250], 250)  # the sender's MTA tries again
    finally:
        await connection.close()
    [row] = await inbound_emails(database_url)
    assert row["raw"] == raw


def test_an_unreachable_database_gets_451_at_rcpt():
    # Nothing listens there: the recipients cannot be checked, so none is accepted.
    unreachable = f"postgresql://helpdesk@127.0.0.1:{free_port()}/helpdesk"
    _, raw = make_message()
    with running_smtp(unreachable) as smtp:
        assert deliver(smtp.port, raw) == ([451], None)


async def test_sigterm_lets_a_transaction_in_flight_finish_then_exits(database_url):
    await make_mailbox(database_url, address="support@example.test")
    _, raw = make_message()
    with running_smtp(database_url) as smtp:
        with smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as idle:
            idle.ehlo("idle.example")
            with smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as busy:
                busy.ehlo("mta.example")
                assert busy.mail("customer@example.com")[0] == 250
                assert busy.rcpt("support@example.test")[0] == 250
                smtp.process.send_signal(signal.SIGTERM)
                await asyncio.sleep(0.5)
                # The idle client is told and let go; the one mid-transaction finishes.
                assert idle.noop()[0] == 421
                assert busy.data(raw)[0] == 250
        assert smtp.process.wait(10) == 0
        with pytest.raises(ConnectionRefusedError):
            smtplib.SMTP("127.0.0.1", smtp.port, timeout=2)
    [row] = await inbound_emails(database_url)
    assert row["raw"] == raw


async def test_sigterm_cuts_off_a_stalled_transaction_after_the_shutdown_timeout(database_url):
    await make_mailbox(database_url, address="support@example.test")
    env = {"HELPDESK_SHUTDOWN_TIMEOUT_SECONDS": "1"}
    with (
        running_smtp(database_url, **env) as smtp,
        smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as stalled,
    ):
        stalled.ehlo("mta.example")
        assert stalled.mail("customer@example.com")[0] == 250
        assert stalled.rcpt("support@example.test")[0] == 250
        smtp.process.send_signal(signal.SIGTERM)
        # It never sends DATA: nothing was acknowledged, and the listener does not wait on.
        assert await asyncio.to_thread(smtp.process.wait, 10) == 0
        with pytest.raises(smtplib.SMTPServerDisconnected):
            stalled.noop()
        assert "smtp transaction cut off by shutdown" in smtp.output()
    assert await inbound_emails(database_url) == []

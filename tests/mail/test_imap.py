"""The worker's IMAP polling against a real IMAP server (a private dovecot).

Starting a worker costs seconds, so these tests share one, polling every 0.3 s, on a
database of this module's; each test has IMAP users and mailboxes of its own.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.mail.factories import inbound_emails, mailbox_row, make_mailbox
from tests.mail.imap_server import PASSWORD, ImapServer
from tests.webhooks.worker_process import running_worker, start_worker, stop_worker


@pytest.fixture(scope="module")
def worker(module_database: str) -> Iterator[str]:
    with running_worker(module_database, HELPDESK_MAIL_IMAP_POLL_SECONDS="0.3"):
        yield module_database


@pytest.fixture
async def idle_database(pg_server, template_ready) -> AsyncIterator[str]:
    """A database of its own, which the module's worker (polling every 0.3 s) never sees."""
    url = await pg_server.create_database()
    try:
        yield url
    finally:
        await pg_server.drop_database(url)


def make_message(subject: str = "Invoice") -> bytes:
    return (
        "From: Customer <customer@example.com>\r\n"
        "To: support@example.test\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@customer.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Grüße, with a\r\n.dot line\r\n"
    ).encode()


async def imap_mailbox(database_url: str, server: ImapServer, user: str, **overrides: Any) -> int:
    values: dict[str, Any] = {
        "imap_host": server.host,
        "imap_port": server.port,
        "imap_security": "none",
        "imap_username": user,
        "imap_password": PASSWORD,
        "imap_archive_folder": "Archive",
    }
    values.update(overrides)
    return (await make_mailbox(database_url, **values)).id


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    deadline = time.monotonic() + 20
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


def stored(database_url: str, channel_id: int, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(await inbound_emails(database_url, channel_id=channel_id)) == count

    return check


def mailbox_is(
    database_url: str, channel_id: int, **expected: Any
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        row = await mailbox_row(database_url, channel_id)
        return all(row[key] == value for key, value in expected.items())

    return check


async def test_new_mail_is_imported_byte_for_byte_then_moved_to_the_archive(worker, imap_server):
    user = imap_server.new_user()
    sent = [make_message(f"Request {n}") for n in range(3)]
    imap_server.append(user, *sent)
    channel_id = await imap_mailbox(worker, imap_server, user)

    await eventually(mailbox_is(worker, channel_id, imap_last_uid=3))
    imported_at = (await mailbox_row(worker, channel_id))["imap_checked_at"]

    async def polled_again() -> bool:
        return (await mailbox_row(worker, channel_id))["imap_checked_at"] > imported_at

    await eventually(polled_again)
    rows = await inbound_emails(worker, channel_id=channel_id)
    assert [row["raw"] for row in rows] == sent
    assert {row["source"] for row in rows} == {"imap"}
    assert imap_server.flags(user) == {}
    assert len(imap_server.flags(user, "Archive")) == 3  # moved once, never read again
    assert (await mailbox_row(worker, channel_id))["imap_error"] is None


async def test_without_an_archive_folder_imported_mail_is_flagged_seen_and_left(
    worker, imap_server
):
    user = imap_server.new_user()
    imap_server.append(user, make_message(), make_message())
    channel_id = await imap_mailbox(worker, imap_server, user, imap_archive_folder=None)
    await eventually(mailbox_is(worker, channel_id, imap_last_uid=2))
    imap_server.append(user, make_message())  # UID 3, after the first poll
    await eventually(mailbox_is(worker, channel_id, imap_last_uid=3))
    assert len(await inbound_emails(worker, channel_id=channel_id)) == 3
    assert imap_server.flags(user) == {1: {"\\Seen"}, 2: {"\\Seen"}, 3: {"\\Seen"}}


async def test_a_renumbered_folder_is_read_again_from_the_start(worker, imap_server):
    user = imap_server.new_user()
    imap_server.append(user, make_message(), make_message(), folder="Support")
    channel_id = await imap_mailbox(worker, imap_server, user, imap_folder="Support")
    await eventually(mailbox_is(worker, channel_id, imap_last_uid=2))
    before = await mailbox_row(worker, channel_id)
    # A folder deleted and made again has a new UIDVALIDITY, and its UIDs start again at 1,
    # below imap_last_uid.
    with imap_server.login(user) as mailbox:
        mailbox.folder.delete("Support")
        mailbox.folder.create("Support")
    imap_server.append(user, make_message(), folder="Support")
    await eventually(stored(worker, channel_id, 3))
    await eventually(mailbox_is(worker, channel_id, imap_last_uid=1))
    after = await mailbox_row(worker, channel_id)
    assert after["imap_uid_validity"] != before["imap_uid_validity"]
    assert len(imap_server.flags(user, "Archive")) == 3


async def test_a_wrong_password_is_recorded_and_the_other_mailboxes_still_polled(
    worker, imap_server
):
    broken_user, good_user = imap_server.new_user(), imap_server.new_user()
    imap_server.append(broken_user, make_message())
    imap_server.append(good_user, make_message())
    broken = await imap_mailbox(worker, imap_server, broken_user, imap_password="wrong")
    good = await imap_mailbox(worker, imap_server, good_user)

    async def error_recorded() -> bool:
        return (await mailbox_row(worker, broken))["imap_error"] is not None

    await eventually(error_recorded)
    await eventually(stored(worker, good, 1))
    row = await mailbox_row(worker, broken)
    assert "AUTHENTICATIONFAILED" in row["imap_error"]
    assert row["imap_checked_at"] is not None
    assert row["imap_last_uid"] == 0
    assert await inbound_emails(worker, channel_id=broken) == []
    assert len(imap_server.flags(broken_user)) == 1  # untouched


async def test_where_the_server_offers_idle_new_mail_is_imported_at_once(
    idle_database, imap_server
):
    user = imap_server.new_user()
    imap_server.append(user, make_message())
    channel_id = await imap_mailbox(idle_database, imap_server, user)
    # Polling every 5 minutes: only IDLE can bring the next message in within seconds.
    process = start_worker(idle_database, HELPDESK_MAIL_IMAP_POLL_SECONDS="300")
    try:
        await eventually(mailbox_is(idle_database, channel_id, imap_last_uid=1))
        # The IDLE connection opens (and has the mailbox polled once more, for what came
        # meanwhile) within a fraction of a second; then it waits in IDLE.
        await asyncio.sleep(1)
        imap_server.append(user, make_message("A second request"))
        deadline = time.monotonic() + 5
        while len(await inbound_emails(idle_database, channel_id=channel_id)) < 2:
            assert time.monotonic() < deadline, "not imported within 5 s"
            await asyncio.sleep(0.1)
        await eventually(mailbox_is(idle_database, channel_id, imap_last_uid=2))
        assert len(imap_server.flags(user, "Archive")) == 2
        assert (await mailbox_row(idle_database, channel_id))["imap_error"] is None
    finally:
        started = time.monotonic()
        stop_worker(process)
    # The IDLE connection ends promptly with the worker.
    assert process.returncode == 0
    assert time.monotonic() - started < 5

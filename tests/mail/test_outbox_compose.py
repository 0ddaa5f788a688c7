"""Composing and enqueueing outbound mail: Message-IDs and subject tokens that carry the
ticket, a MIME message no header value can break out of, and the outbox row."""

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from sqlalchemy import func, select

from helpdesk_api.mail.outgoing import (
    NO_THREAD,
    Address,
    InvalidAddress,
    OutboundRecipient,
    ThreadHeaders,
    compose,
    new_message_id,
    subject_with_token,
    thread_headers,
    ticket_id_from_message_id,
    ticket_id_from_subject,
)
from helpdesk_api.models import OutboundEmail
from tests.conftest import make_settings
from tests.mail.outbox_fixtures import (
    SUPPORT,
    add_inbound,
    add_mailbox,
    customer_ticket,
    enqueue_one,
    mailbox,
    sessions,
    use_mailbox,
)

__all__ = ["customer_ticket", "mailbox", "sessions"]  # fixtures
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def _compose(**overrides):
    values = {
        "mail_from": Address("Acme Support", SUPPORT),
        "to": [Address("Ivan", "ivan@example.com")],
        "subject": "Hello",
        "text": "Hi\n",
        "message_id": "<hd.1.0123456789abcdef0123456789abcdef@acme.test>",
        "date": NOW,
    }
    values.update(overrides)
    return message_from_bytes(compose(**values), policy=default)


def test_message_id_carries_the_ticket_for_our_domains_only():
    message_id = new_message_id(123, "Acme.Test")
    assert message_id.startswith("<hd.123.")
    assert message_id.endswith("@acme.test>")
    assert ticket_id_from_message_id(message_id, ["acme.test"]) == 123
    assert ticket_id_from_message_id(message_id.strip("<>"), ["ACME.test"]) == 123
    assert ticket_id_from_message_id(message_id, ["other.test"]) is None
    assert ticket_id_from_message_id(new_message_id(None, "acme.test"), ["acme.test"]) is None
    assert ticket_id_from_message_id("<CAF=abc@mail.gmail.com>", ["acme.test"]) is None
    assert new_message_id(7, "acme.test") != new_message_id(7, "acme.test")


def test_subject_token_is_added_once_and_read_back():
    assert subject_with_token("Printer on fire", 123) == "[#123] Printer on fire"
    assert subject_with_token("Re: [#123] Printer on fire", 123) == "Re: [#123] Printer on fire"
    assert subject_with_token("[#12] Other", 123) == "[#123] [#12] Other"
    assert ticket_id_from_subject("Re: [#123] Printer on fire") == 123
    assert ticket_id_from_subject("AW: Printer #123") is None


def test_compose_builds_utf8_multipart_alternative_with_crlf():
    raw = compose(
        mail_from=Address("Поддержка", SUPPORT),
        to=[Address("Иван", "ivan@example.com")],
        cc=[Address(None, "boss@example.com")],
        reply_to=Address("Поддержка", SUPPORT),
        subject="[#1] Ответ",
        text="Привет\n",
        html="<p>Привет</p>",
        message_id="<hd.1.0123456789abcdef0123456789abcdef@acme.test>",
        in_reply_to="their-1@example.com",
        references=["their-0@example.com", "<their-1@example.com>"],
        automatic=False,
        date=NOW,
    )
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    message = message_from_bytes(raw, policy=default)
    assert message["Subject"] == "[#1] Ответ"
    assert message["In-Reply-To"] == "<their-1@example.com>"
    assert message["References"] == "<their-0@example.com> <their-1@example.com>"
    assert message["Cc"] == "boss@example.com"
    assert message["Date"] == "Sun, 29 Nov 2026 10:00:00 +0000"
    assert "Auto-Submitted" not in message
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == "Привет"
    assert message.get_body(("html",)).get_content().strip() == "<p>Привет</p>"


def test_header_values_cannot_start_headers_of_their_own():
    message = _compose(
        subject="Hello\r\nBcc: victim@example.com",
        to=[Address("Ivan\nBcc: victim@example.com", "ivan@example.com")],
        headers={"X-Helpdesk-Kind": "reply\r\nBcc: victim@example.com"},
    )
    assert "Bcc" not in message
    assert message["Subject"] == "Hello Bcc: victim@example.com"
    with pytest.raises(InvalidAddress):
        _compose(to=[Address("Ivan", "ivan@example.com\r\nBcc: victim@example.com")])
    with pytest.raises(InvalidAddress):
        _compose(to=[Address("Ivan", "not an address")])
    with pytest.raises(ValueError, match="cannot be set"):
        _compose(headers={"From": "someone@else.test"})
    # A Message-ID of theirs that could smuggle text is left out, not repeated.
    message = _compose(references=["ok@example.com", "bad id>\r\nBcc: x@y"])
    assert message["References"] == "<ok@example.com>"


def test_automatic_messages_say_so():
    message = _compose(automatic=True)
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"


async def test_nothing_is_enqueued_without_an_active_mailbox(sessions, settings, customer_ticket):
    await add_mailbox(sessions, "old@acme.test", is_active=False)
    row = await enqueue_one(sessions, settings, ticket_id=customer_ticket["ticket"]["id"])
    assert row is None
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboundEmail)) == 0


async def test_enqueue_sends_from_the_tickets_mailbox_and_threads(
    sessions, settings, customer_ticket, mailbox
):
    ticket_id = customer_ticket["ticket"]["id"]
    billing = await add_mailbox(sessions, "billing@acme.test", display_name="Acme Billing")
    await use_mailbox(sessions, ticket_id, billing.id)
    await add_inbound(sessions, ticket_id, ["first@example.com", "second@example.com"])
    row = await enqueue_one(
        sessions,
        settings,
        ticket_id=ticket_id,
        comment_id=None,
        cc=[
            OutboundRecipient("Boss@Example.COM", "Boss"),
            OutboundRecipient("ivan@EXAMPLE.com"),
            OutboundRecipient("boss@example.com"),
        ],
    )
    assert row is not None
    assert row.status == "pending"
    assert row.attempts == 0
    assert row.channel_id == billing.id
    assert row.mail_from == "billing@acme.test"
    assert row.recipients == ["ivan@example.com", "Boss@example.com"]
    assert row.subject == f"[#{ticket_id}] Ответ на ваш запрос"
    assert ticket_id_from_message_id(row.message_id, ["acme.test"]) == ticket_id
    async with sessions() as session:
        raw = await session.scalar(select(OutboundEmail.raw).where(OutboundEmail.id == row.id))
    message = message_from_bytes(raw, policy=default)
    assert message["Message-ID"] == f"<{row.message_id}>"
    assert message["From"] == "Acme Billing <billing@acme.test>"
    assert message["Reply-To"] == "Acme Billing <billing@acme.test>"
    assert message["In-Reply-To"] == "<second@example.com>"
    assert message["References"] == "<first@example.com> <second@example.com>"
    assert message["Subject"] == row.subject
    assert message["Cc"] == "Boss <Boss@example.com>"


async def test_message_id_domain_setting_and_first_active_mailbox(sessions, database_url, mailbox):
    await add_mailbox(sessions, "later@acme.test")
    settings = make_settings(database_url, mail_message_id_domain="mail.acme.test")
    row = await enqueue_one(sessions, settings, kind="password_reset", thread=NO_THREAD)
    assert row is not None
    assert row.mail_from == SUPPORT
    assert row.message_id.startswith("hd.0.")
    assert row.message_id.endswith("@mail.acme.test")
    assert row.subject == "Ответ на ваш запрос"


async def test_thread_headers_keep_the_first_and_latest_messages(
    sessions, settings, customer_ticket, mailbox
):
    ticket_id = customer_ticket["ticket"]["id"]
    start = datetime.now(UTC) - timedelta(days=1)
    await add_inbound(sessions, ticket_id, [f"in-{n}@example.com" for n in range(12)], start=start)
    ours = await enqueue_one(sessions, settings, ticket_id=ticket_id, thread=NO_THREAD)
    other = await enqueue_one(
        sessions,
        settings,
        ticket_id=ticket_id,
        thread=NO_THREAD,
        recipient=OutboundRecipient("agent@acme.test"),
    )
    async with sessions() as session:
        thread = await thread_headers(session, ticket_id, recipient="ivan@example.com")
        everything = await thread_headers(session, ticket_id)
        nothing = await thread_headers(session, customer_ticket["ticket"]["id"] + 1000)
    assert thread.in_reply_to == "in-11@example.com"
    expected = ["in-0@example.com", *[f"in-{n}@example.com" for n in range(3, 12)]]
    assert thread.references == [*expected, ours.message_id]
    assert everything.references == [*expected[:1], *expected[2:], ours.message_id,
                                      other.message_id]  # fmt: skip
    assert nothing == ThreadHeaders(None, [])

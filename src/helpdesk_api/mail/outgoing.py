"""Mail we send: Message-IDs and subjects that carry the ticket, the MIME message, and the
outbox row the worker sends (``mail/sending.py``).

One message per recipient. Each recipient gets a message in their own language, under a
Message-ID of its own, and an address the relay refuses holds back nobody else; a message
may still carry a Cc list, which sees the same text. The message is composed when it is
enqueued and its bytes are frozen in the row, so every retry sends exactly the same message.

Message-IDs are stored without angle brackets, as ``inbound_emails.message_id`` is, so a
reply's In-Reply-To can be looked up in either table as it is.
"""

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from typing import NamedTuple

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.settings import Settings
from helpdesk_api.events.notifier import CHANNEL as WAKE_CHANNEL
from helpdesk_api.models import (
    EmailChannel,
    InboundEmail,
    OutboundEmail,
    OutboundStatus,
    Ticket,
)

# Every part 7-bit clean (quoted-printable or base64): no relay needs 8BITMIME for our mail.
POLICY = SMTP.clone(cte_type="7bit")
# References: the conversation's first message and its latest ones, as mail clients keep it.
REFERENCES_LATEST = 10
SUBJECT_MAX_CHARS = 900

_MESSAGE_ID = re.compile(r"^<?hd\.(\d{1,18})\.[0-9a-f]{32}@([^<>@\s]+)>?$", re.IGNORECASE)
_SUBJECT_TOKEN = re.compile(r"\[#(\d{1,18})\]")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,75}$")
# Headers compose() writes itself; extra headers may not replace them.
_OWN_HEADERS = frozenset(
    {
        "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id",
        "in-reply-to", "references", "mime-version", "content-type",
        "content-transfer-encoding", "auto-submitted", "x-auto-response-suppress",
        "return-path",
    }
)  # fmt: skip


class InvalidAddress(ValueError):
    pass


@dataclass(frozen=True)
class Address:
    name: str | None
    email: str


@dataclass(frozen=True)
class OutboundRecipient:
    email: str
    name: str | None = None
    user_id: int | None = None


class ThreadHeaders(NamedTuple):
    """Message-IDs (without angle brackets) that thread a message into its conversation."""

    in_reply_to: str | None
    references: list[str]


NO_THREAD = ThreadHeaders(None, [])


@dataclass(frozen=True)
class OutgoingMail:
    """One message to one recipient (and its Cc list), as a notification asks for it.

    ``thread`` None: ``enqueue`` reads the ticket's conversation for this recipient. Pass
    ``thread_headers(...)`` (or ``NO_THREAD``) to decide it yourself.
    """

    kind: str  # public_reply, status_changed, ticket_assigned, acknowledgement, ...
    recipient: OutboundRecipient
    subject: str
    text: str
    html: str | None = None
    cc: Sequence[OutboundRecipient] = ()
    ticket_id: int | None = None
    comment_id: int | None = None
    thread: ThreadHeaders | None = None
    automatic: bool = False  # Auto-Submitted: auto-replied, so other robots do not answer
    headers: Mapping[str, str] = field(default_factory=dict)


# Message-IDs and subject tokens


def new_message_id(ticket_id: int | None, domain: str) -> str:
    """``<hd.{ticket_id}.{random}@{domain}>``: the ticket token lets a reply find its ticket
    even when the client drops In-Reply-To and References. No ticket: ``hd.0.``."""
    domain = one_line(domain).strip().strip(".").lower()
    if not domain or any(c in domain for c in "<>@ "):
        raise ValueError(f"not a Message-ID domain: {domain!r}")
    return f"<hd.{ticket_id or 0}.{uuid.uuid4().hex}@{domain}>"


def ticket_id_from_message_id(message_id: str, our_domains: Iterable[str]) -> int | None:
    """The ticket named in one of our own Message-IDs (with or without angle brackets); None
    for anyone else's, for another domain's, and for ``hd.0.``."""
    match = _MESSAGE_ID.match(message_id.strip())
    if match is None:
        return None
    if match.group(2).lower() not in {d.strip().lower() for d in our_domains}:
        return None
    return int(match.group(1)) or None


def subject_with_token(subject: str, ticket_id: int) -> str:
    """``[#123] subject``, unless the subject already carries this ticket's token."""
    subject = one_line(subject)
    token = f"[#{ticket_id}]"
    return subject if token in subject else f"{token} {subject}".rstrip()


def ticket_id_from_subject(subject: str) -> int | None:
    """The first ``[#123]`` token of a subject."""
    match = _SUBJECT_TOKEN.search(subject)
    return (int(match.group(1)) or None) if match else None


# Composing


def one_line(value: str) -> str:
    """A header value on one line: line breaks, tabs and other control characters become
    single spaces, so no value can start a header of its own."""
    cleaned = "".join(" " if ord(c) < 32 or 0x7F <= ord(c) < 0xA0 else c for c in value)
    return " ".join(cleaned.split())


def _header_address(address: Address) -> HeaderAddress:
    email = address.email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or one_line(email) != email or " " in email:
        raise InvalidAddress(f"not an e-mail address: {email!r}")
    try:
        return HeaderAddress(display_name=one_line(address.name or ""), addr_spec=email)
    except (ValueError, IndexError) as exc:
        raise InvalidAddress(f"not an e-mail address: {email!r}") from exc


def normalize_email(email: str) -> str:
    """As stored in the outbox: trimmed, the domain in lower case (mail systems compare the
    domain without case; the local part is the receiving system's business)."""
    local, _, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def _bare_id(message_id: str) -> str | None:
    """A Message-ID without its angle brackets, or None if it is not one we can repeat."""
    bare = message_id.strip().removeprefix("<").removesuffix(">")
    if not bare or len(bare) > 900 or not bare.isascii() or not bare.isprintable():
        return None
    if any(c in bare for c in " <>"):
        return None
    return bare


def compose(
    *,
    mail_from: Address,
    to: Sequence[Address],
    cc: Sequence[Address] = (),
    reply_to: Address | None = None,
    subject: str,
    text: str,
    html: str | None = None,
    message_id: str,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    automatic: bool = False,
    date: datetime,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """The message as sent: CRLF line ends, UTF-8 in 7-bit transfer encodings, text and
    (when given) HTML as multipart/alternative. Names and the subject are put on one line;
    an address that is not one raises ``InvalidAddress``; Message-IDs that cannot be
    repeated safely are left out of In-Reply-To and References."""
    own_id = _bare_id(message_id)
    if own_id is None or "@" not in own_id:
        raise ValueError(f"not a Message-ID: {message_id!r}")
    if not to:
        raise InvalidAddress("a message needs a recipient")
    message = EmailMessage(policy=POLICY)
    message["From"] = _header_address(mail_from)
    message["To"] = [_header_address(a) for a in to]
    if cc:
        message["Cc"] = [_header_address(a) for a in cc]
    if reply_to is not None:
        message["Reply-To"] = _header_address(reply_to)
    message["Subject"] = one_line(subject)
    message["Date"] = date
    message["Message-ID"] = f"<{own_id}>"
    parent = _bare_id(in_reply_to) if in_reply_to else None
    if parent is not None:
        message["In-Reply-To"] = f"<{parent}>"
    chain = [f"<{bare}>" for bare in map(_bare_id, references) if bare is not None]
    if chain:
        message["References"] = " ".join(dict.fromkeys(chain))
    if automatic:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.match(name) or name.lower() in _OWN_HEADERS:
            raise ValueError(f"header {name!r} cannot be set here")
        message[name] = one_line(value)
    message.set_content(text, charset="utf-8")
    if html is not None:
        message.make_alternative()
        part = EmailMessage(policy=POLICY)
        part.set_content(html, subtype="html", charset="utf-8")
        del part["MIME-Version"]  # said once, at the top
        message.attach(part)
    return message.as_bytes()


# The conversation and the outbox


async def thread_headers(
    session: AsyncSession, ticket_id: int, *, recipient: str | None = None
) -> ThreadHeaders:
    """What threads a new message into the ticket's conversation in the recipient's client.

    In-Reply-To: the latest message that came in (or, when none did, the latest we sent).
    References: the first message and the latest ``REFERENCES_LATEST``, oldest first, from
    what came in and what we sent; with ``recipient``, only what we sent to that address
    (they never saw the rest). Failed messages never arrived and are left out."""
    inbound = select(
        InboundEmail.message_id.label("message_id"),
        InboundEmail.received_at.label("at"),
        literal(0).label("outbound"),
        InboundEmail.id.label("id"),
    ).where(InboundEmail.ticket_id == ticket_id, InboundEmail.message_id.is_not(None))
    outbound = select(
        OutboundEmail.message_id,
        OutboundEmail.created_at,
        literal(1),
        OutboundEmail.id,
    ).where(OutboundEmail.ticket_id == ticket_id, OutboundEmail.status != OutboundStatus.failed)
    if recipient is not None:
        outbound = outbound.where(OutboundEmail.recipients.contains([normalize_email(recipient)]))
    conversation = union_all(inbound, outbound).cte("conversation")
    c = conversation.c
    oldest_first = (c.at, c.outbound, c.id)
    newest_first = tuple(column.desc() for column in oldest_first)

    columns = (c.message_id, c.at, c.outbound, c.id)
    rows = (
        await session.execute(
            union_all(
                select(*columns, literal("first").label("part")).order_by(*oldest_first).limit(1),
                select(*columns, literal("latest"))
                .order_by(*newest_first)
                .limit(REFERENCES_LATEST),
                # The latest message that came in; the latest we sent when none did.
                select(*columns, literal("reply")).order_by(c.outbound, *newest_first).limit(1),
            )
        )
    ).all()
    chain = {(r.at, r.outbound, r.id): r.message_id for r in rows if r.part != "reply"}
    references = list(dict.fromkeys(chain[key] for key in sorted(chain)))
    reply = next((r.message_id for r in rows if r.part == "reply"), None)
    return ThreadHeaders(reply, references)


async def sending_mailbox(session: AsyncSession, ticket_id: int | None) -> EmailChannel | None:
    """The active mailbox the ticket's conversation runs through; else the first active one."""
    preferred = (
        select(Ticket.email_channel_id).where(Ticket.id == ticket_id).scalar_subquery()
        if ticket_id is not None
        else None
    )
    statement = select(EmailChannel).where(EmailChannel.is_active)
    if preferred is not None:
        statement = statement.order_by(case((EmailChannel.id == preferred, 0), else_=1))
    return await session.scalar(statement.order_by(EmailChannel.id).limit(1))


def message_id_domain(settings: Settings, mailbox: EmailChannel) -> str:
    if settings.mail_message_id_domain:
        return settings.mail_message_id_domain
    return mailbox.address.rpartition("@")[2]


def _copies(to: Address, cc: Sequence[OutboundRecipient]) -> list[Address]:
    """The Cc list without the recipient and without repeats (compared without case, as
    mail systems do), in the order given."""
    copies: dict[str, Address] = {to.email.lower(): to}
    for recipient in cc:
        email = normalize_email(recipient.email)
        copies.setdefault(email.lower(), Address(recipient.name, email))
    return list(copies.values())[1:]


async def enqueue(
    session: AsyncSession,
    mail: OutgoingMail,
    *,
    settings: Settings,
    now: datetime,
    channel: EmailChannel | None = None,
) -> OutboundEmail | None:
    """Put one message in the outbox, sent from ``channel`` or else ``sending_mailbox``; the
    worker sends it after the caller commits. Never commits. None, and nothing written, when
    there is no mailbox to send from. With a ticket, the subject carries its ``[#id]`` token
    and the Message-ID its id, so the answer finds its way back."""
    mailbox = channel or await sending_mailbox(session, mail.ticket_id)
    if mailbox is None:
        return None
    subject = one_line(mail.subject)
    if mail.ticket_id is not None:
        subject = subject_with_token(subject, mail.ticket_id)
    subject = subject[:SUBJECT_MAX_CHARS]
    thread = mail.thread
    if thread is None:
        thread = (
            await thread_headers(session, mail.ticket_id, recipient=mail.recipient.email)
            if mail.ticket_id is not None
            else NO_THREAD
        )
    message_id = new_message_id(mail.ticket_id, message_id_domain(settings, mailbox))
    sender = Address(mailbox.display_name or mailbox.name, mailbox.address)
    to = Address(mail.recipient.name, normalize_email(mail.recipient.email))
    cc = _copies(to, mail.cc)
    raw = compose(
        mail_from=sender,
        to=[to],
        cc=cc,
        reply_to=Address(sender.name, mailbox.address),
        subject=subject,
        text=mail.text,
        html=mail.html,
        message_id=message_id,
        in_reply_to=thread.in_reply_to,
        references=thread.references,
        automatic=mail.automatic,
        date=now,
        headers=mail.headers,
    )
    row = OutboundEmail(
        ticket_id=mail.ticket_id,
        comment_id=mail.comment_id,
        channel_id=mailbox.id,
        recipient_id=mail.recipient.user_id,
        kind=mail.kind,
        message_id=message_id.strip("<>"),
        mail_from=mailbox.address,
        recipients=[to.email, *(a.email for a in cc)],
        subject=subject,
        raw=raw,
        status=OutboundStatus.pending,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    # Wakes the worker when the caller commits (the NOTIFY is transactional).
    await session.execute(select(func.pg_notify(WAKE_CHANNEL, "")))
    return row

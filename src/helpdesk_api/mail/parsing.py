"""Inbound e-mail as data: ``parse_message`` turns the raw bytes of any message, however
broken, into a ``ParsedMail`` or raises ``UnparseableMail``, and nothing else.

Pure: no database, no network, nothing unpacked. Header decoding lives in ``headers``, the
sorting of MIME parts into text, HTML and files in ``parts``.
"""

from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser

from helpdesk_api.mail.headers import (
    Address,
    addresses,
    automatic_reason,
    first_text,
    kept_headers,
    message_ids,
    parse_date,
    raw_values,
)
from helpdesk_api.mail.parts import MailAttachment, extract_body

__all__ = ["Address", "MailAttachment", "ParsedMail", "UnparseableMail", "parse_message"]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


class UnparseableMail(Exception):
    """The bytes are not an e-mail we can read anything useful from."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    sender: Address | None
    reply_to: list[Address]
    to: list[Address]
    cc: list[Address]
    subject: str
    date: datetime | None
    text: str
    html: str | None
    attachments: list[MailAttachment]
    # Why this is machine mail that must never be acknowledged, or None for a person's mail.
    automatic: str | None
    headers: dict[str, str]
    # What was left out, and why: attachments over the size limit, unreadable parts.
    dropped: list[str] = field(default_factory=list)


def parse_message(
    raw: bytes, *, max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
) -> ParsedMail:
    """Parse one message; any failure is an ``UnparseableMail``, so that intake has exactly
    one exception to quarantine a message on."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise UnparseableMail(f"expected bytes, got {type(raw).__name__}")
    data = bytes(raw)
    if not data.strip():
        raise UnparseableMail("empty message")
    try:
        return _parse(data, max_attachment_bytes)
    except UnparseableMail:
        raise
    except RecursionError as exc:
        raise UnparseableMail("structure nested too deeply to parse") from exc
    except Exception as exc:
        raise UnparseableMail(f"unexpected {type(exc).__name__} while parsing") from exc


def _parse(data: bytes, max_attachment_bytes: int) -> ParsedMail:
    msg: Message = BytesParser(policy=policy.default).parsebytes(data)
    if not msg.keys():
        raise UnparseableMail("no header fields")
    sender = _sender(msg)
    body = extract_body(msg, max_attachment_bytes=max_attachment_bytes)
    own_ids = message_ids(raw_values(msg, "message-id"))
    return ParsedMail(
        message_id=own_ids[0] if own_ids else None,
        in_reply_to=message_ids(raw_values(msg, "in-reply-to")),
        references=message_ids(raw_values(msg, "references")),
        sender=sender,
        reply_to=addresses(msg, "reply-to"),
        to=addresses(msg, "to"),
        cc=addresses(msg, "cc"),
        subject=first_text(msg, "subject") or "",
        date=parse_date(next(iter(raw_values(msg, "date")), None)),
        text=body.text,
        html=body.html,
        attachments=body.attachments,
        automatic=automatic_reason(msg, sender),
        headers=kept_headers(msg),
        dropped=body.dropped,
    )


def _sender(msg: Message) -> Address | None:
    # From is who wrote it; Sender and Return-Path only stand in when From is unusable.
    for name in ("from", "sender", "return-path"):
        found = addresses(msg, name)
        if found:
            return found[0]
    return None

"""Header fields of inbound mail, read defensively: whatever a sender put in them, we get text
that is one line, valid Unicode and free of control characters, or nothing.

The stdlib keeps undecodable 8-bit header bytes as lone surrogates and does not always know a
charset an encoded word names, so the raw values are decoded here, with the same charset
fallbacks as bodies (``decode_text``).
"""

import codecs
import re
import unicodedata
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from helpdesk_api.core.text import BIDI_CONTROLS


@dataclass(frozen=True, slots=True)
class Address:
    email: str
    name: str | None


# Labels that promise nothing: a client that knows no better says us-ascii (or nothing) and
# sends UTF-8 or the Windows code page; WHATWG reads latin-1 labels as windows-1252 for the
# same reason.
_WEAK_LABELS = frozenset({"ascii", "iso8859-1"})  # codecs' own names for them


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
        # codecs.lookup also knows bytes-to-bytes codecs (zlib, base64) that are not charsets;
        # decoding refuses those with LookupError, but only when there is something to decode.
        with suppress(UnicodeDecodeError):  # a charset that wants more bytes (utf-16) is fine
            b"a".decode(name)
    except (LookupError, ValueError, TypeError):
        return None
    return name


def decode_text(data: bytes, charset: str | None) -> str:
    """Text of bytes in a declared charset we cannot trust: the declared charset, then UTF-8,
    and only then a lossy fallback, so that no input makes this raise."""
    codec = _codec(charset)
    if codec is None or codec in _WEAK_LABELS:
        for candidate in ("utf-8", "cp1252"):
            with suppress(UnicodeDecodeError):
                return data.decode(candidate)
        return data.decode("latin-1")
    for candidate in (codec, "utf-8"):
        with suppress(UnicodeDecodeError):
            return data.decode(candidate)
    # A declared charset with a few bad bytes is still the best guess for the rest.
    return data.decode(codec, "replace")


def one_line(value: str) -> str:
    """Header injection guard: a decoded header may carry CR/LF (RFC 2047 can encode them), so
    every run of whitespace and control characters becomes one space; bidirectional overrides
    go, so a name cannot display as something else; lone surrogates become U+FFFD."""
    out = []
    for ch in value:
        category = unicodedata.category(ch)
        if ch in BIDI_CONTROLS:
            continue
        if category == "Cs":
            out.append("\ufffd")
        elif ch.isspace() or category == "Cc":
            out.append(" ")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _unfolded(raw: str) -> str:
    """A raw header value as Unicode: the parser keeps 8-bit bytes (RFC 6532 UTF-8, or a
    legacy charset) as surrogate escapes, which we decode like a body without a charset."""
    value = re.sub(r"\r?\n(?=[ \t])", "", raw)
    if has_surrogates(value):
        value = decode_text(value.encode("utf-8", "surrogateescape"), None)
    return value


# Decoding costs more than linear time in the stdlib (50,000 encoded words: seconds); no
# subject or recipient list worth reading is longer, so longer values are read this far.
MAX_DECODED_HEADER_CHARS = 32_768


def decode_unstructured(raw: str, name: str = "subject") -> str:
    """RFC 2047 decoding with our charset fallbacks; the stdlib's own decoding is the fallback
    for what ``decode_header`` refuses (bad base64, 8-bit text mixed with encoded words)."""
    value = _unfolded(raw[:MAX_DECODED_HEADER_CHARS])
    if "=?" not in value:
        return one_line(value)
    if value.isascii():
        with suppress(HeaderParseError, ValueError, LookupError):
            pieces = decode_header(value)
            return one_line(
                "".join(
                    piece if isinstance(piece, str) else decode_text(piece, charset)
                    for piece, charset in pieces
                )
            )
    return one_line(str(policy.default.header_factory(name, value)))


def raw_values(msg: Message, name: str) -> list[str]:
    """Every occurrence of a header, raw; ``raw_items`` never parses, so it cannot fail."""
    wanted = name.lower()
    return [value for key, value in msg.raw_items() if key.lower() == wanted]


def first_text(msg: Message, name: str) -> str | None:
    values = raw_values(msg, name)
    return decode_unstructured(values[0], name) if values else None


_ADDRESS_FORBIDDEN = re.compile(r"[\s<>()\[\],;:\\\"]")


def _address(username: str, domain: str, display_name: str) -> Address | None:
    username, domain = username.strip(), domain.strip()
    email = f"{username}@{domain}"
    if not username or not domain or "@" in domain or _ADDRESS_FORBIDDEN.search(domain):
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cs") or ch.isspace() for ch in email):
        return None
    return Address(email=email.lower(), name=one_line(display_name) or None)


def addresses(msg: Message, name: str) -> list[Address]:
    """Addresses from every occurrence of an address header; unusable entries are skipped."""
    found: list[Address] = []
    for raw in raw_values(msg, name):
        found.extend(_parse_addresses(_unfolded(raw[:MAX_DECODED_HEADER_CHARS])))
    return list(dict.fromkeys(found))


def _parse_addresses(value: str) -> list[Address]:
    parsed: list[Address | None]
    try:
        # Any address header will do as the parser: the name only picks the header class.
        header = policy.default.header_factory("to", value)
        parsed = [_address(a.username, a.domain, a.display_name) for a in header.addresses]
    except Exception:  # the stdlib's new parser gives up; its old one is more forgiving
        parsed = _legacy_addresses(value)
    return [a for a in parsed if a is not None]


def _legacy_addresses(value: str) -> list[Address | None]:
    try:
        pairs = getaddresses([value])
    except Exception:  # e.g. RecursionError on "((((…": no usable address in there
        return []
    return [
        _address(spec.rpartition("@")[0], spec.rpartition("@")[2], decode_unstructured(name))
        for name, spec in pairs
    ]


_ID_IN_BRACKETS = re.compile(r"<([^<>]*)>")


def _valid_id(value: str, *, require_at: bool) -> bool:
    if not 0 < len(value) <= 995 or any(not 33 <= ord(ch) <= 126 for ch in value):
        return False
    if require_at:
        left, at, right = value.rpartition("@")
        return bool(left and at and right)
    return True


def message_ids(values: Iterable[str], *, require_at: bool = True) -> list[str]:
    """Ids of Message-ID / In-Reply-To / References, without brackets or folding whitespace,
    in order, each once. Text around bracketed ids (old clients add comments) is ignored."""
    ids: dict[str, None] = {}  # ordered, and no quadratic "in" on a huge References
    for raw in values:
        value = _unfolded(raw)
        candidates = _ID_IN_BRACKETS.findall(value) or value.replace(",", " ").split()
        for candidate in candidates:
            normalised = "".join(candidate.split())
            if _valid_id(normalised, require_at=require_at):
                ids.setdefault(normalised)
    return list(ids)


def parse_date(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = parsedate_to_datetime(one_line(_unfolded(raw[:200])))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # "-0000" means "UTC, local zone unknown" (RFC 5322 §3.3); the stdlib returns it naive.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# Kept for display and audit; decoded, one line each, first occurrence.
KEPT_HEADERS = (
    "message-id", "from", "to", "cc", "subject", "date", "in-reply-to", "references",
    "auto-submitted",
)  # fmt: skip


def kept_headers(msg: Message) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name in KEPT_HEADERS:
        value = first_text(msg, name)
        if value is not None:
            kept[name] = value
    return kept


_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
DAEMON_MAILBOXES = frozenset({"mailer-daemon", "postmaster"})


def _brief(value: str) -> str:
    return value if len(value) <= 100 else value[:99] + "…"


def automatic_reason(msg: Message, sender: Address | None) -> str | None:
    """Why this is machine mail that must never be acknowledged (RFC 3834), or None.

    An empty ``Auto-Submitted`` counts as automatic: not acknowledging a person costs less
    than a mail loop with a robot."""
    auto_submitted = first_text(msg, "auto-submitted")
    if auto_submitted is not None and auto_submitted.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {_brief(auto_submitted)}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if raw_values(msg, name):
            return f"{name} header present"
    precedence = (first_text(msg, "precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    if msg.get_content_type() == "multipart/report":
        report_type = ""
        with suppress(Exception):
            report_type = one_line(str(msg.get_param("report-type", "") or ""))
        return f"report (multipart/report; report-type={_brief(report_type) or '?'})"
    if sender is not None and sender.email.partition("@")[0] in DAEMON_MAILBOXES:
        return f"sent by {sender.email}"
    if any(value.strip() == "<>" for value in raw_values(msg, "return-path")):
        return "null Return-Path (a bounce or an auto-reply)"
    for name in ("List-Id", "List-Unsubscribe"):
        if raw_values(msg, name):
            return f"mailing list ({name} header present)"
    return None

"""The MIME parts of a parsed message sorted into its text, its HTML and its files.

Nothing is ever unpacked or interpreted beyond the transfer encoding: an attachment is a name,
a type and bytes.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from email.message import Message
from html import unescape
from urllib.parse import unquote

from inscriptis import get_text

from helpdesk_api.core.html import sanitize_html
from helpdesk_api.mail.headers import (
    decode_text,
    decode_unstructured,
    has_surrogates,
    message_ids,
    raw_values,
)


@dataclass(frozen=True, slots=True)
class MailAttachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)
    inline: bool
    content_id: str | None


@dataclass(frozen=True, slots=True)
class Body:
    text: str
    html: str | None
    attachments: list[MailAttachment]
    dropped: list[str]


# Hostile structure: real mail nests a few levels and has a few dozen parts at most.
MAX_DEPTH = 30
MAX_PARTS = 1000
MAX_FILENAME_BYTES = 255

# Extensions for nameless parts; mimetypes would read the host's /etc/mime.types, and a name
# should not depend on the machine that parsed the mail.
_EXTENSIONS = {
    "application/pdf": ".pdf", "image/gif": ".gif", "image/jpeg": ".jpg", "image/png": ".png",
    "image/webp": ".webp", "message/rfc822": ".eml", "message/delivery-status": ".txt",
    "text/calendar": ".ics", "text/html": ".html", "text/plain": ".txt",
    "text/rfc822-headers": ".txt",
}  # fmt: skip
CID_REFERENCE = re.compile(r"""cid:([^\s"'<>)]+)""", re.IGNORECASE)
# The sanitiser's time grows with tags × nesting depth (40,000 nested <div>s: 4 s), and no
# mail client nests anywhere near this deep.
MAX_HTML_DEPTH = 500
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)([^<>]*)>")  # [^<>]: linear on "<a<a<a…"
# Void elements and those whose end tag may be left out: they do not nest.
_NOT_NESTING = frozenset({
    "area", "base", "body", "br", "col", "colgroup", "dd", "dt", "embed", "head", "hr", "html",
    "img", "input", "li", "link", "meta", "option", "p", "param", "rp", "rt", "source", "tbody",
    "td", "tfoot", "th", "thead", "tr", "track", "wbr",
})  # fmt: skip
_BODY_TYPES = frozenset({"text/plain", "text/html"})


def safe_filename(name: str | None, *, index: int, content_type: str) -> str:
    """A name that is safe to show and to store: a basename with no control or bidi
    characters, no leading dots, at most 255 bytes of UTF-8, the extension kept."""
    default = f"attachment-{index}{_EXTENSIONS.get(content_type, '.bin')}"
    if not name:
        return default
    if has_surrogates(name):
        name = decode_text(name.encode("utf-8", "surrogateescape"), None)
    if "=?" in name:
        name = decode_unstructured(name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Cf covers the bidi overrides that make "invoice\u202egpj.exe" display as a picture.
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    name = " ".join(name.split()).lstrip(". ").rstrip(". ")
    if not name:
        return default
    return _truncated(name)


def _truncated(name: str) -> str:
    if len(name.encode()) <= MAX_FILENAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = f".{extension}" if dot and stem and 0 < len(extension) <= 16 else ""
    if not suffix:
        stem = name
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    return stem.encode()[:budget].decode("utf-8", "ignore").rstrip(". ") + suffix


# Unicode category Cc is exactly these ranges; a regex keeps a 25 MB body fast.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Body text under the house rule: line breaks and tabs, no other control characters."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATES.sub("\ufffd", _CONTROLS.sub("", value)).strip()


def _html_depth(html: str) -> int:
    """Nesting depth of an HTML text, estimated from its tags in one linear pass."""
    depth = deepest = 0
    for closing, name, rest in _TAG.findall(html):
        if name.lower() in _NOT_NESTING or rest.endswith("/"):
            continue
        if closing:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _leaves(msg: Message, dropped: list[str]) -> list[Message]:
    """Leaf parts in document order, iteratively (``Message.walk`` recurses, and descends
    into attached messages, whose text is not this message's text)."""
    leaves: list[Message] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            dropped.append(f"more than {MAX_PARTS} MIME parts: the rest were not read")
            break
        if part.is_multipart() and part.get_content_maintype() != "message":
            if depth >= MAX_DEPTH:
                dropped.append(f"MIME parts nested deeper than {MAX_DEPTH} levels were not read")
                continue
            children = part.get_payload()
            assert isinstance(children, list)
            stack.extend(
                (child, depth + 1) for child in reversed(children) if isinstance(child, Message)
            )
        else:
            leaves.append(part)
    return leaves


def _decoded_payload(part: Message) -> bytes:
    if part.get_content_maintype() == "message" and part.is_multipart():
        # message/rfc822 (forwarded mail) or message/delivery-status: keep it as a file.
        inner = part.get_payload()
        assert isinstance(inner, list)
        return b"".join(m.as_bytes() for m in inner if isinstance(m, Message))
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _is_body(part: Message) -> bool:
    if part.get_content_disposition() == "attachment" or part.get_filename() is not None:
        return False
    # A multipart whose boundary is missing arrives as one unparsed leaf: show it as text.
    return part.get_content_type() in _BODY_TYPES or part.get_content_maintype() == "multipart"


def extract_body(msg: Message, *, max_attachment_bytes: int) -> Body:
    dropped: list[str] = []
    texts: list[str] = []
    htmls: list[str] = []
    files: list[Message] = []
    for number, part in enumerate(_leaves(msg, dropped), start=1):
        try:
            if not _is_body(part):
                files.append(part)
                continue
            decoded = clean_text(decode_text(_decoded_payload(part), part.get_content_charset()))
            (htmls if part.get_content_type() == "text/html" else texts).append(decoded)
        except Exception as exc:  # one unreadable part must not cost the rest of the message
            dropped.append(f"part {number} could not be read ({type(exc).__name__})")

    raw_html = "\n".join(h for h in htmls if h)
    too_deep = bool(raw_html) and _html_depth(raw_html) > MAX_HTML_DEPTH
    if too_deep:
        dropped.append(f"HTML nested deeper than {MAX_HTML_DEPTH} elements: kept as text only")
    text = "\n\n".join(t for t in texts if t)
    if not text and raw_html:
        # lxml, under inscriptis, silently drops whatever is nested deeper than 256 levels.
        text = clean_text(
            " ".join(unescape(_TAG.sub(" ", raw_html)).split()) if too_deep else get_text(raw_html)
        )
    html = sanitize_html(raw_html) if raw_html and not too_deep else None
    referenced = {unquote(cid).lower() for cid in CID_REFERENCE.findall(raw_html)}

    attachments: list[MailAttachment] = []
    for index, part in enumerate(files, start=1):
        try:
            attachment = _attachment(part, index, referenced)
        except Exception as exc:
            dropped.append(f"attachment {index} could not be read ({type(exc).__name__})")
            continue
        if len(attachment.content) > max_attachment_bytes:
            dropped.append(
                f"{attachment.filename}: {len(attachment.content)} bytes, over the limit of "
                f"{max_attachment_bytes} bytes"
            )
            continue
        attachments.append(attachment)
    return Body(
        text=text,
        html=html if html and html.strip() else None,
        attachments=attachments,
        dropped=dropped,
    )


def _attachment(part: Message, index: int, referenced: set[str]) -> MailAttachment:
    content_type = part.get_content_type()
    ids = message_ids(raw_values(part, "content-id"), require_at=False)
    content_id = ids[0] if ids else None
    return MailAttachment(
        filename=safe_filename(part.get_filename(), index=index, content_type=content_type),
        content_type=content_type,
        content=_decoded_payload(part),
        inline=content_id is not None and content_id.lower() in referenced,
        content_id=content_id,
    )

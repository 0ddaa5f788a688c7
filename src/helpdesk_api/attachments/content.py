"""How stored bytes are served: content type, disposition and the headers that keep an
uploaded file from running as part of this origin."""

import re
from urllib.parse import quote

from helpdesk_api.models import Attachment

# Passive types a browser may show in place. Everything else is downloaded.
_INLINE = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "text/plain",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/webm",
        "video/mp4",
        "video/webm",
        "video/ogg",
    }
)
# Types a browser may execute or render as a document (scripts, markup, plugins).
_ACTIVE_WORDS = ("html", "script", "xsl", "flash", "wasm")
_ACTIVE_TOP_LEVEL = ("text/", "multipart/")
_PASSIVE_TEXT = frozenset({"text/plain", "text/csv"})
# Defence in depth should a browser render the response anyway: no scripts, no origin.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
_MEDIA_TYPE = re.compile(
    r"^[A-Za-z0-9][\w!#$&^.+-]{0,126}/[A-Za-z0-9][\w!#$&^.+-]{0,126}"
    r"""(\s*;\s*[\w!#$&^.+-]+=("[^"\\\x00-\x1f\x7f]*"|[\w!#$&^.+-]+))*$"""
)
_RFC5987_SAFE = "!#$&+^`|"


def normalize_content_type(value: str | None) -> str | None:
    """The media type lower-cased with its parameters kept; None when not a media type."""
    if value is None or not value.strip():
        return "application/octet-stream"
    value = value.strip()
    if len(value) > 255 or not _MEDIA_TYPE.match(value):
        return None
    essence, _, parameters = value.partition(";")
    return essence.strip().lower() + (f"; {parameters.strip()}" if parameters else "")


def essence(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


def may_be_active(content_type: str) -> bool:
    kind = essence(content_type)
    if kind in _PASSIVE_TEXT:
        return False
    return (
        kind.startswith(_ACTIVE_TOP_LEVEL)
        or kind.endswith("xml")  # image/svg+xml, application/xhtml+xml, text/xml, …
        or any(word in kind for word in _ACTIVE_WORDS)
    )


def content_disposition(disposition: str, filename: str) -> str:
    """RFC 6266 with an ASCII fallback and the exact name RFC 5987-encoded."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    encoded = quote(filename, safe=_RFC5987_SAFE)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def content_etag(attachment: Attachment) -> str:
    return f'"sha256-{attachment.sha256}"'


def content_headers(attachment: Attachment) -> dict[str, str]:
    stored = attachment.content_type
    if may_be_active(stored):
        media_type, disposition = "application/octet-stream", "attachment"
    elif essence(stored) in _INLINE:
        media_type, disposition = stored, "inline"
    else:
        media_type, disposition = stored, "attachment"
    return {
        "Content-Type": media_type,
        "Content-Disposition": content_disposition(disposition, attachment.filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        # Who may read it can change (a ticket moves group): revalidate every time.
        "Cache-Control": "private, no-cache",
        "ETag": content_etag(attachment),
    }


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates

"""Normalising identity values so one person is one customer whatever way they write in."""

import re

from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.models import IdentityKind

_PHONE_NOISE = re.compile(r"[\s().\-/]")
_PHONE = re.compile(r"^\+?[0-9]{5,20}$")
_HANDLE = re.compile(r"^[A-Za-z0-9_.]{1,64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalize_identity(kind: IdentityKind, value: str, *, loc: tuple[str | int, ...]) -> str:
    raw = value.strip()
    if kind is IdentityKind.email:
        if not _EMAIL.match(raw) or len(raw) > 320:
            raise InvalidInput(f"{value!r} is not an e-mail address.", loc=loc)
        return raw.lower()
    if kind in (IdentityKind.phone, IdentityKind.whatsapp):
        digits = _PHONE_NOISE.sub("", raw)
        if not _PHONE.match(digits):
            raise InvalidInput(
                f"{value!r} is not a phone number (digits, optionally with a leading +).",
                loc=loc,
            )
        return digits
    if kind in (IdentityKind.telegram, IdentityKind.twitter):
        handle = raw.removeprefix("@")
        if not _HANDLE.match(handle):
            raise InvalidInput(f"{value!r} is not a {kind} handle.", loc=loc)
        return handle.lower()
    if not raw or len(raw) > 320:
        raise InvalidInput("An identity value must be 1 to 320 characters.", loc=loc)
    return raw

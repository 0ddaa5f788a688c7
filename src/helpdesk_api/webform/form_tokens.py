"""Signed form tokens: proof that a request comes from a form this service handed out.

A token is ``v1.<issued at, Unix seconds>.<nonce>.<HMAC-SHA256 of the rest>`` under the
configured secret. It is checked for its signature and age and spent once (its digest is
kept with the submission, unique). Pure functions: the time is passed in.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from helpdesk_api.core.errors import InvalidInput

_VERSION = "v1"
LOC = ("body", "form_token")
# Clocks of several API processes disagree a little; a token "from the future" by more is forged.
_SKEW_SECONDS = 60


def _sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def issue(secret: str, *, now: datetime) -> str:
    payload = f"{_VERSION}.{int(now.timestamp())}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_sign(secret, payload)}"


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def check(
    secret: str, token: str, *, now: datetime, min_age: timedelta, max_age: timedelta
) -> bytes:
    """The token's digest, once its signature and age are right; a 422 naming what is not."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _VERSION:
        raise _invalid()
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_sign(secret, payload), parts[3]):
        raise _invalid()
    try:
        issued = int(parts[1])
    except ValueError:
        raise _invalid() from None
    age = now.timestamp() - issued
    if age < -_SKEW_SECONDS:
        raise _invalid()
    if age > max_age.total_seconds():
        raise InvalidInput(
            "The form has expired: reload it and send the request again.",
            loc=LOC,
            type="form_token_expired",
        )
    if age < min_age.total_seconds():
        raise InvalidInput(
            "The form was sent too quickly after it was loaded; send it again in a moment.",
            loc=LOC,
            type="form_token_too_new",
        )
    return digest(token)


def _invalid() -> InvalidInput:
    return InvalidInput(
        "The form token is not valid: reload the form and send the request again.",
        loc=LOC,
        type="form_token_invalid",
    )


def spent() -> InvalidInput:
    return InvalidInput(
        "This form was already sent once: reload it to send another request.",
        loc=LOC,
        type="form_token_used",
    )


def missing() -> InvalidInput:
    return InvalidInput(
        "A form token is required: get one from GET /v1/public/requests/form-token.",
        loc=LOC,
        type="missing",
    )

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import Lines, OneLine

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]
Subject = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), OneLine
]
Body = Annotated[str, StringConstraints(min_length=1, max_length=65_536), Lines]
HONEYPOT = (
    "A honeypot: render it hidden (not `type=hidden`, which scripts skip; off-screen, "
    "`autocomplete=off`, `tabindex=-1`) and leave it empty. A request that fills it in is "
    "answered exactly as an accepted one, and nothing of it is kept."
)


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _optional(description: str) -> Any:
    """Left out is None; no default published (generators would make it required)."""
    return Field(default=None, description=description, json_schema_extra=_drop_default)


class WebAttachment(StrictModel):
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_type: Annotated[str, Field(min_length=1, max_length=255)] = _optional(
        "The file's media type; application/octet-stream when left out."
    )
    content: Annotated[str, Field(min_length=1)] = Field(
        description="The file's bytes, base64-encoded (standard alphabet, padded). "
        "Each file at most the attachment size limit."
    )


class WebRequestCreate(StrictModel):
    """What the form sends. `name` and `email` are required without a token; with a
    customer's token the request is theirs and both are ignored."""

    name: Name = omittable()
    email: EmailStr = omittable()
    subject: Subject
    body: Body
    attachments: Annotated[list[WebAttachment], Field(max_length=20)] = omittable()
    website: Annotated[str, Field(max_length=10_000)] = _optional(HONEYPOT)
    form_token: Annotated[str, Field(max_length=300)] = _optional(
        "Required when the service signs its forms: the token from "
        "`GET /v1/public/requests/form-token`, spent by this request."
    )
    captcha_response: Annotated[str, Field(max_length=8192)] = _optional(
        "Required when a CAPTCHA is configured: what the CAPTCHA widget gave the browser "
        "(reCAPTCHA's `g-recaptcha-response`, hCaptcha's, Turnstile's)."
    )


class RequestReceived(BaseModel):
    """The same answer whoever sent the request and whatever became of it: it tells
    nobody whether the address is known, what else it asked, or whether a ticket was
    opened (spam is answered alike). The ticket's number reaches the sender by e-mail."""

    status: Literal["received"]
    ticket_id: int | None = Field(
        description="Only when the request came with the customer's own token (who may "
        "see the ticket anyway); null for anonymous requests."
    )


class FormToken(BaseModel):
    token: str = Field(description="Send it as `form_token`; it works once.")
    expires_at: datetime
    not_before: datetime = Field(description="The form may be sent from this time on.")

"""Who is reading the public API: nobody in particular, or a signed-in user; and who votes.

Public paths take no token, or a user's. Staff tokens read them as a signed-in customer
would: internal articles and drafts never leave through ``/v1/public/``.
"""

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials

from helpdesk_api.core.auth import Principal, bearer_scheme, get_principal
from helpdesk_api.core.client_address import ClientAddress
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB
from helpdesk_api.kb.search import ANONYMOUS, SIGNED_IN, Audience


async def optional_principal(
    request: Request,
    session: DB,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    now: Now,
) -> Principal | None:
    """None without a token; a token that is sent must be valid (401 otherwise)."""
    if credentials is None:
        return None
    return await get_principal(request, session, credentials, now)


Reader = Annotated[Principal | None, Depends(optional_principal)]


def audience_of(reader: Principal | None) -> Audience:
    return ANONYMOUS if reader is None else SIGNED_IN


VISITOR_HEADER = "X-Visitor-Id"
VisitorId = Annotated[
    str | None,
    Header(
        alias=VISITOR_HEADER,
        max_length=200,
        description="An anonymous visitor's id, chosen by the widget (a random value kept "
        "in the browser): with the client address, one visitor's vote. Ignored for a "
        "signed-in user, whose vote is their user's.",
    ),
]


@dataclass(frozen=True)
class Visitor:
    key: bytes  # one vote per article per key
    address: bytes  # the client address, hashed: votes per address are limited
    user_id: int | None


def _hash(*parts: bytes) -> bytes:
    return hashlib.sha256(b"\x00".join(parts)).digest()


def visitor_of(request: Request, reader: Principal | None, visitor_id: str | None) -> Visitor:
    settings = request.app.state.settings
    address = ClientAddress.from_settings(
        settings.trusted_proxy_header, settings.trusted_proxy_count, settings.trusted_proxies
    ).key(request.scope)
    address_key = _hash(b"kb-address", address)
    if reader is not None:
        return Visitor(_hash(b"kb-user", str(reader.user_id).encode()), address_key, reader.user_id)
    return Visitor(_hash(b"kb-visitor", address, (visitor_id or "").encode()), address_key, None)

"""Cache headers for the public API, so a widget and a CDN can cache what it reads.

The ETag is a hash of the body: any change of what the caller would read changes it, and
``If-None-Match`` with it answers 304 without a body. Anonymous answers are ``public`` (one
answer for everyone, a CDN may keep it); a signed-in caller's are ``private``.
"""

import hashlib

from fastapi import Request, Response
from pydantic import BaseModel

MAX_AGE_SECONDS = 60


def cached(request: Request, model: BaseModel, *, signed_in: bool) -> Response:
    body = model.model_dump_json().encode()
    tag = f'"kb-{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {
        "ETag": tag,
        "Cache-Control": f"{'private' if signed_in else 'public'}, max-age={MAX_AGE_SECONDS}",
        "Vary": "Authorization",
    }
    sent = request.headers.get("if-none-match")
    if sent is not None:
        candidates = {t.strip().removeprefix("W/") for t in sent.split(",")}
        if tag in candidates or "*" in candidates:
            return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)

"""CORS for browser frontends, off unless HELPDESK_CORS_ORIGINS names origins."""

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from helpdesk_api.core.errors import problem_response

ALLOW_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "Last-Event-ID",
    "X-Request-ID",
)
# A script can read only the response headers listed here (beyond a few simple ones).
EXPOSE_HEADERS = (
    "ETag",
    "Location",
    "Link",
    "Retry-After",
    "Idempotent-Replayed",
    "X-Request-ID",
    "WWW-Authenticate",
    "Content-Disposition",
    "Allow",
)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with its refusals of a preflight as problem+json like every error.

    Tokens travel in the Authorization header, never in cookies: credentials stay off, so a
    listed origin can call the API only with a token its user gave it.
    """

    def __init__(self, app: ASGIApp, *, origins: Sequence[str], max_age: int) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=ALLOW_METHODS,
            allow_headers=ALLOW_HEADERS,
            expose_headers=EXPOSE_HEADERS,
            allow_credentials=False,
            max_age=max_age,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = bytes(response.body).decode(errors="replace")
        headers = {k: v for k, v in response.headers.items() if k.lower().startswith("access-")}
        return problem_response(
            None,
            status=response.status_code,
            slug="cors-refused",
            title="CORS request refused",
            detail=f"{refused}: this API allows only the origins, methods and headers it lists.",
            headers=headers,
        )

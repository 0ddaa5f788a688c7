"""Pure ASGI middleware: request ids and access logs, body size limit, rate limit, security
headers."""

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpdesk_api.core.client_address import ClientAddress
from helpdesk_api.core.errors import PayloadTooLarge, TooManyRequests, render_problem

access_logger = logging.getLogger("helpdesk_api.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Probes and scrapes must keep working while clients are being limited; /metrics refuses
# without its token before any work.
_UNMETERED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestContextMiddleware:
    """Echoes or creates ``X-Request-ID`` and writes one structured access-log line per request."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                principal = scope.get("state", {}).get("principal")
                access_logger.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "user_id": getattr(principal, "user_id", None),
                    },
                )


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit with a problem+json 413 before the application reads them.

    FastAPI's own ``max_body_size`` answers in plain text from outside our error handlers.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, overrides: Mapping[str, int] | None = None
    ) -> None:
        """``overrides`` maps a path prefix (``/v1/attachments``) to its own limit."""
        self.app = app
        self.max_bytes = max_bytes
        # Longest prefix first, so a nested prefix can set a limit of its own.
        self.overrides = sorted(
            ((prefix.rstrip("/"), limit) for prefix, limit in (overrides or {}).items()),
            key=lambda item: len(item[0]),
            reverse=True,
        )

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.overrides:
            if path == prefix or path.startswith(prefix + "/"):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > max_bytes:
                await self._refuse(scope, receive, send, max_bytes)
                return
            await self.app(scope, receive, send)
            return
        # No length declared (chunked): read up to the limit, then replay what was read.
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > max_bytes:
                await self._refuse(scope, receive, send, max_bytes)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        error = PayloadTooLarge(f"The request body is larger than the limit of {max_bytes} bytes.")
        response = render_problem(Request(scope), error)
        await response(scope, receive, send)


@dataclass
class _Gcra:
    """Generic cell rate algorithm: smooth per-key limits in O(1) memory per key."""

    per_minute: int
    burst: int
    tat: dict[bytes, float] = field(default_factory=dict)

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute

    def acquire(self, key: bytes, now: float) -> float:
        """Return 0 when allowed, else the seconds to wait."""
        tolerance = self.interval * self.burst
        tat = max(self.tat.get(key, now), now)
        if tat - now > tolerance:
            return tat - now - tolerance
        self.tat[key] = tat + self.interval
        if len(self.tat) > 100_000:
            self.tat = {k: v for k, v in self.tat.items() if v > now}
        return 0.0

    def move(self, source: bytes, target: bytes, now: float) -> None:
        """Move one request's charge from one key to another, whatever the target's budget:
        the request has already been served."""
        if source in self.tat:
            self.tat[source] -= self.interval
        self.tat[target] = max(self.tat.get(target, now), now) + self.interval


# How long a token that authenticated is charged to its user without being looked at again.
# A revoked token is refused by authentication all the same; this only picks the bucket.
_KNOWN_TOKEN_SECONDS = 300.0
_KNOWN_TOKEN_MAX = 50_000


class RateLimitMiddleware:
    """Per user once a token has proved itself, per client address until then.

    Keyed by the presented token, every made-up token would bring a fresh budget. Instead a
    request is charged to its client address, unless its token authenticated recently in
    this process; when authentication succeeds (the auth dependency puts the principal on
    the request's state), the charge moves to the user. No query is added per request.
    Budgets live in this process' memory: with N workers, a client gets up to N times as much.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        burst: int,
        client_address: ClientAddress | None = None,
    ) -> None:
        self.app = app
        self.limiter = _Gcra(per_minute, max(burst, 1)) if per_minute > 0 else None
        self.client_address = client_address or ClientAddress()
        # sha256 of the Authorization header → (user id, until): insertion-ordered, oldest first.
        self.known_tokens: dict[bytes, tuple[int, float]] = {}

    def _known_user(self, token: bytes | None, now: float) -> int | None:
        known = self.known_tokens.get(token) if token else None
        if known is None or known[1] < now:
            return None
        return known[0]

    def _remember(self, token: bytes, user_id: int, now: float) -> None:
        self.known_tokens.pop(token, None)
        self.known_tokens[token] = (user_id, now + _KNOWN_TOKEN_SECONDS)
        if len(self.known_tokens) > _KNOWN_TOKEN_MAX:
            del self.known_tokens[next(iter(self.known_tokens))]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.limiter
        if limiter is None or scope["type"] != "http" or scope["path"] in _UNMETERED_PATHS:
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        authorization = dict(scope["headers"]).get(b"authorization")
        token = hashlib.sha256(authorization).digest() if authorization else None
        user_id = self._known_user(token, now)
        key = b"user:%d" % user_id if user_id is not None else self.client_address.key(scope)
        wait = limiter.acquire(key, now)
        if wait > 0:
            retry_after = max(1, int(wait + 0.999))
            error = TooManyRequests(
                f"Too many requests from this {'user' if user_id is not None else 'client'}; "
                f"retry in {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            )
            response = render_problem(Request(scope), error)
            await response(scope, receive, send)
            return
        if token is None:
            await self.app(scope, receive, send)
            return

        async def settle(message: Message) -> None:
            if message["type"] == "http.response.start":
                principal = scope.get("state", {}).get("principal")
                if principal is not None:
                    if user_id is None:
                        limiter.move(key, b"user:%d" % principal.user_id, now)
                    self._remember(token, principal.user_id, now)
                elif message["status"] == 401:
                    self.known_tokens.pop(token, None)
            await send(message)

        await self.app(scope, receive, settle)


# Sent on every response. The API serves JSON only: no page of it may be framed, sniffed into
# something else, or leak its URL (with ids and search terms) to another site.
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)


class SecurityHeadersMiddleware:
    """Adds the security headers, and a Cache-Control to responses that chose none.

    A response with an ETag may be kept by the client's own cache and revalidated with
    If-None-Match (``private, no-cache``); anything else (authenticated data, errors) is not
    stored at all (``no-store``). A response that set its own Cache-Control (the SSE stream,
    attachment content) keeps it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS:
                    if name.decode() not in headers:
                        headers.raw.append((name, value))
                if "cache-control" not in headers:
                    headers["cache-control"] = (
                        "private, no-cache" if "etag" in headers else "no-store"
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)

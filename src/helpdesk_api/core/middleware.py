"""Pure ASGI middleware: request ids and access logs, body size limit, per-token rate limit."""

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpdesk_api.core.errors import PayloadTooLarge, TooManyRequests, render_problem

access_logger = logging.getLogger("helpdesk_api.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_UNMETERED_PATHS = frozenset({"/healthz", "/readyz"})


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

    def acquire(self, key: bytes, now: float) -> float:
        """Return 0 when allowed, else the seconds to wait."""
        interval = 60.0 / self.per_minute
        tolerance = interval * self.burst
        tat = max(self.tat.get(key, now), now)
        if tat - now > tolerance:
            return tat - now - tolerance
        self.tat[key] = tat + interval
        if len(self.tat) > 100_000:
            self.tat = {k: v for k, v in self.tat.items() if v > now}
        return 0.0


class RateLimitMiddleware:
    """Per-token limit (per client address for anonymous calls), kept in this process' memory."""

    def __init__(self, app: ASGIApp, *, per_minute: int, burst: int) -> None:
        self.app = app
        self.limiter = _Gcra(per_minute, max(burst, 1)) if per_minute > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.limiter is None or scope["type"] != "http" or scope["path"] in _UNMETERED_PATHS:
            await self.app(scope, receive, send)
            return
        authorization = dict(scope["headers"]).get(b"authorization")
        if authorization:
            key = hashlib.sha256(authorization).digest()
        else:
            key = ("addr:" + str((scope.get("client") or ("?",))[0])).encode()
        wait = self.limiter.acquire(key, time.monotonic())
        if wait > 0:
            retry_after = max(1, int(wait + 0.999))
            error = TooManyRequests(
                f"Too many requests for this token; retry in {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            )
            response = render_problem(Request(scope), error)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

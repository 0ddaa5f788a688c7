"""Domain errors and their one mapping to RFC 9457 problem+json documents."""

import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("helpdesk_api.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:helpdesk-api:problem:"


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    type: str = Field(examples=["urn:helpdesk-api:problem:not-found"])
    title: str
    status: int
    detail: str
    request_id: str | None = None


class ValidationProblem(Problem):
    errors: list[FieldError] = []


class ProblemError(Exception):
    """Base of every error a client may see; subclasses name the status and the problem type."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal Server Error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}

    def extra(self) -> dict[str, Any]:
        return {}


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Unauthorized"

    def __init__(self, detail: str = "A valid bearer token is required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="helpdesk-api"'})


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not Found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(ProblemError):
    status, slug, title = 412, "precondition-failed", "Precondition Failed"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Payload Too Large"


class UnsupportedMediaType(ProblemError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported Media Type"


class TooManyRequests(ProblemError):
    status, slug, title = 429, "rate-limited", "Too Many Requests"


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "not-ready", "Service Unavailable"


# A restart of PostgreSQL takes about a second; a client retrying sooner only adds load.
OUTAGE_RETRY_AFTER_SECONDS = 2


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached, or dropped the connection mid-request."""

    slug = "database-unavailable"

    def __init__(
        self,
        detail: str = "The database is unavailable at the moment. Retry shortly; an "
        "Idempotency-Key makes a retried create safe.",
    ) -> None:
        super().__init__(detail, headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)})


# SQLSTATEs of a server that is going away or not taking connections: class 08 (connection
# exception), admin and crash shutdown, "cannot connect now" (starting or stopping), and
# too many connections.
_OUTAGE_SQLSTATES = ("57P01", "57P02", "57P03", "53300")

# asyncpg's own errors for a connection that broke under it: "connection is closed",
# "another operation is in progress", "cannot switch to state …". Their subclasses
# (DataError, ClientConfigurationError, …) are programming errors and stay 500s.
_BROKEN_CONNECTION_ERRORS = (
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.ProtocolError,
)


def is_database_outage(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is unreachable (as opposed to refusing a statement).

    Decided in one place for the error mapping, the pool's invalidation and the probes."""
    if isinstance(exc, DatabaseUnavailable | PoolTimeout):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    # SQLAlchemy wraps the dialect's error, which wraps asyncpg's: look at each layer.
    layer: BaseException | None = exc
    for _ in range(3):
        if layer is None:
            break
        if type(layer) in _BROKEN_CONNECTION_ERRORS:
            return True
        sqlstate = str(getattr(layer, "sqlstate", "") or "")
        if sqlstate.startswith("08") or sqlstate in _OUTAGE_SQLSTATES:
            return True
        layer = getattr(layer, "orig", None) or layer.__cause__
    return False


class InvalidInput(ProblemError):
    """422 raised by services for input that is well-formed but names things that do not fit."""

    status, slug, title = 422, "validation-error", "Unprocessable Content"

    def __init__(
        self, detail: str, *, loc: Sequence[str | int] = (), type: str = "invalid"
    ) -> None:
        super().__init__(detail)
        self.errors = [FieldError(loc=list(loc), msg=detail, type=type)] if loc else []

    def extra(self) -> dict[str, Any]:
        return {"errors": [e.model_dump() for e in self.errors]}


def problem_response(
    request: Request | None,
    *,
    status: int,
    detail: str,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + slug if slug else "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail,
    }
    request_id = request.scope.get("request_id") if request is not None else None
    if request_id:
        body["request_id"] = request_id
    body.update(extra or {})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _loc(loc: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def render_problem(request: Request, exc: ProblemError) -> JSONResponse:
    """The one rendering of a domain error, for handlers and middleware alike."""
    return problem_response(
        request,
        status=exc.status,
        detail=exc.detail,
        slug=exc.slug,
        title=exc.title,
        headers=exc.headers,
        extra=exc.extra(),
    )


async def handle_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return render_problem(request, exc)


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}."
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem_response(request, status=exc.status_code, detail=detail, headers=headers)


def _route_table(app: Any) -> list[tuple[re.Pattern[str], int, frozenset[str]]]:
    """Every route's path as a pattern, its parameter count and methods; built once per
    app. FastAPI nests included routers in its own route type, which a walk over
    ``app.router.routes`` does not see into; ``iter_route_contexts`` does."""
    table: list[tuple[re.Pattern[str], int, frozenset[str]]] | None = getattr(
        app.state, "route_table", None
    )
    if table is None:
        table = []
        for route in iter_route_contexts(app.routes):
            parts = re.split(r"\{[^/{}]+\}", route.path_format or "")
            pattern = re.compile("[^/]+".join(re.escape(part) for part in parts))
            table.append((pattern, len(parts) - 1, frozenset(route.methods or ())))
        app.state.route_table = table
    return table


def _allowed_methods(request: Request) -> list[str]:
    """What this path offers (``Allow`` of a 405), from its most specific matching routes:
    ``/v1/views/counts`` over ``/v1/views/{view_id}``, as routing prefers it."""
    best: tuple[int, set[str]] | None = None
    for pattern, parameters, methods in _route_table(request.app):
        if not methods or not pattern.fullmatch(request.url.path):
            continue
        if best is None or parameters < best[0]:
            best = (parameters, set(methods))
        elif parameters == best[0]:
            best[1].update(methods)
    return sorted(best[1] - {"HEAD"}) if best else []


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # A PATCH of /v1/views/counts reaches /v1/views/{view_id} only because the literal
    # path has no PATCH: that is a 405, not a bad view_id.
    allowed = _allowed_methods(request)
    if allowed and request.method not in allowed:
        return problem_response(
            request,
            status=405,
            detail=f"{request.method} is not allowed on {request.url.path}.",
            headers={"Allow": ", ".join(allowed)},
        )
    errors = [
        {"loc": _loc(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type"))}
        for e in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
    return problem_response(
        request,
        status=422,
        slug="validation-error",
        title="Unprocessable Content",
        detail=f"The request is not valid: {summary}" if summary else "The request is not valid.",
        extra={"errors": errors},
    )


async def handle_database_error(request: Request, exc: Exception) -> JSONResponse:
    """Values PostgreSQL cannot store (a NUL character, an out-of-range number) are the
    client's input, not our failure: SQLSTATE class 22 is "data exception"."""
    assert isinstance(exc, DBAPIError)
    if is_database_outage(exc):
        return await handle_database_outage(request, exc)
    sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
    if sqlstate.startswith("22"):
        return problem_response(
            request,
            status=422,
            slug="unstorable-value",
            title="Unprocessable Content",
            detail="The request contains a value that cannot be stored, such as a NUL "
            "character or a number out of range.",
            extra={"errors": []},
        )
    if sqlstate.startswith("40"):
        # A deadlock or serialization failure: PostgreSQL rolled this request back whole.
        return problem_response(
            request,
            status=409,
            slug="concurrent-update",
            title="Conflict",
            detail="A concurrent change to the same data won; nothing was saved. Retry.",
        )
    return await handle_unexpected(request, exc)


async def handle_database_outage(request: Request, exc: Exception) -> JSONResponse:
    logger.warning(
        "database unavailable",
        extra={"request_id": request.scope.get("request_id"), "error": type(exc).__name__},
    )
    return render_problem(request, DatabaseUnavailable())


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"request_id": request.scope.get("request_id")})
    return problem_response(
        request,
        status=500,
        slug="internal-error",
        detail="The server failed to complete the request. Nothing was saved; try again.",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, handle_problem)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(DBAPIError, handle_database_error)
    app.add_exception_handler(PoolTimeout, handle_database_outage)
    app.add_exception_handler(Exception, handle_unexpected)


def _problem_content(model: type[BaseModel]) -> dict[str, Any]:
    return {"model": model, "content": {PROBLEM_MEDIA_TYPE: {}}}


def problem_responses(**described: str) -> dict[int | str, dict[str, Any]]:
    """Route-specific problem responses, ``status_415="..."``, in the common shape."""
    return {
        int(name.removeprefix("status_")): {"description": text, **_problem_content(Problem)}
        for name, text in described.items()
    }


# Documented on every /v1 route so generated clients know the error shape.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body could not be read as JSON", **_problem_content(Problem)},
    401: {"description": "Missing or invalid bearer token", **_problem_content(Problem)},
    403: {"description": "Authenticated but not allowed", **_problem_content(Problem)},
    404: {"description": "Not found, or not visible to the caller", **_problem_content(Problem)},
    413: {"description": "Request body too large", **_problem_content(Problem)},
    422: {"description": "Validation error", **_problem_content(ValidationProblem)},
    429: {"description": "Rate limit exceeded; see Retry-After", **_problem_content(Problem)},
    503: {
        "description": "The database is unavailable; retry after Retry-After seconds",
        **_problem_content(Problem),
    },
}

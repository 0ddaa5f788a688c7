"""Engine, sessions and the one-transaction-per-request route class."""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import event
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from helpdesk_api.core.errors import DatabaseUnavailable, is_database_outage

_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg"}
# libpq spells TLS as sslmode; asyncpg calls the same thing ssl.
_LIBPQ_TO_ASYNCPG = {"sslmode": "ssl"}


class InvalidDatabaseURL(ValueError):
    pass


def to_asyncpg_url(url: str) -> str:
    """Accept a plain PostgreSQL URL as providers hand it out; return SQLAlchemy's asyncpg form."""
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise InvalidDatabaseURL(
            f"DATABASE_URL must start with postgresql:// (got scheme {parts.scheme!r})"
        )
    query = [(_LIBPQ_TO_ASYNCPG.get(k, k), v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg", query=urlencode(query)))


def to_libpq_url(url: str) -> str:
    """The same database as a plain ``postgresql://`` URL (for asyncpg.connect and psql)."""
    parts = urlsplit(to_asyncpg_url(url))
    query = [("sslmode" if k == "ssl" else k, v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(scheme="postgresql", query=urlencode(query)))


# A server that does not answer at all (a dropped route, a paused VM) must not hold a
# request for asyncpg's default minute.
CONNECT_TIMEOUT_SECONDS = 5.0


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        to_asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping: it costs a round trip per request. A connection that breaks is
        # discarded when it fails (_discard_broken_connections), with every other connection
        # opened before the failure, so after a restart only the requests already in flight
        # see the old connections.
        pool_recycle=1800,
        connect_args={
            "server_settings": {"application_name": "helpdesk-api", "timezone": "UTC"},
            "timeout": CONNECT_TIMEOUT_SECONDS,
        },
    )
    event.listen(engine.sync_engine, "handle_error", _discard_broken_connections)
    event.listen(engine.sync_engine, "do_connect", _connect_or_unavailable)
    return engine


def _discard_broken_connections(context: ExceptionContext) -> None:
    # asyncpg reports some breakages (a server shutdown mid-query, a protocol left in the
    # middle of an operation) without the connection looking closed, so SQLAlchemy would
    # hand it out again: "cannot switch to state 12; another operation is in progress".
    if is_database_outage(context.original_exception):
        context.is_disconnect = True


def _connect_or_unavailable(
    dialect: Dialect, record: ConnectionPoolEntry, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    # A refused or timed-out connect reaches us as a bare OSError/TimeoutError, which
    # SQLAlchemy does not wrap; name it here, where it is unambiguous.
    try:
        return dialect.connect(*cargs, **cparams)
    except (OSError, TimeoutError) as exc:
        raise DatabaseUnavailable() from exc


def create_sessionmaker(
    engine: AsyncEngine, *, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """``info`` is copied into every session's ``Session.info`` (the assembly puts the ticket
    pipeline there)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info)


def _query_parameter_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub_dependant in dependant.dependencies:
        names |= _query_parameter_names(sub_dependant)
    return names


class TransactionalRoute(APIRoute):
    """Every request runs in one transaction that commits after the handler built its response
    and before a single byte is sent, so a failed commit becomes a 5xx and never a 2xx.

    It also refuses query parameters the route does not declare.

    The session lives here rather than in a ``yield`` dependency because FastAPI has moved the
    exit of such dependencies relative to sending the response between releases.
    Anything raised by the handler (domain errors included) leaves the block and rolls back.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known_query = _query_parameter_names(self.dependant)

        async def run_in_transaction(request: Request) -> Response:
            # A misspelt filter must not silently widen a list: unknown parameters are errors.
            unknown = [name for name in request.query_params if name not in known_query]
            if unknown:
                raise RequestValidationError(
                    [
                        {
                            "loc": ("query", name),
                            "msg": "Unknown query parameter",
                            "type": "extra_forbidden",
                        }
                        for name in unknown
                    ]
                )
            sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
            async with sessionmaker() as session:
                request.state.db = session
                response = await handler(request)
                hooks: list[Callable[[Response], Awaitable[None]]] = getattr(
                    request.state, "before_commit", []
                )
                for hook in hooks:
                    await hook(response)
                await session.commit()
                return response

        return run_in_transaction


async def get_db(request: Request) -> AsyncSession:
    session: AsyncSession | None = getattr(request.state, "db", None)
    if session is None:
        raise RuntimeError("this route needs route_class=TransactionalRoute on its router")
    return session


DB = Annotated[AsyncSession, Depends(get_db)]

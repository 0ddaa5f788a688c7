"""The admin create/read/update shape, one way for every resource that has it.

An ETag from the row's ``version`` column, the If-Match check, ``Location`` on create, the
field diff ``[{field, from, to}]`` and the ``<resource>.created`` / ``<resource>.updated``
events. Users, organisations, groups, ticket statuses, SLA policies, business calendars and
webhooks each declare one ``AdminResource`` and go through it, so they cannot drift apart.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from fastapi import Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ExecutableOption

from helpdesk_api.core.errors import NotFound
from helpdesk_api.core.etag import check_if_match
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event

Change = dict[str, Any]


class Versioned(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def version(self) -> int: ...


def field_changes(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    fields: Iterable[str] | None = None,
    redacted: Collection[str] = (),
) -> list[Change]:
    """``{field, from, to}`` for each field whose value differs, in ``fields`` order.

    A redacted field (staff-only notes, secrets) says only that it changed: the event log
    reaches integrators, who must not learn the value from it.
    """
    changes: list[Change] = []
    for name in after.keys() if fields is None else fields:
        if name not in after or before.get(name) == after[name]:
            continue
        hidden = name in redacted
        changes.append(
            {
                "field": name,
                "from": None if hidden else before.get(name),
                "to": None if hidden else after[name],
            }
        )
    return changes


RowT = TypeVar("RowT", bound=Versioned)


@dataclass(frozen=True)
class AdminResource(Generic[RowT]):
    """``name`` is singular snake_case: the ETag's kind, the prefix of the resource's event
    types and the ``<name>_id`` key of its update events; ``path`` is its collection path;
    ``label`` names it in a 404; ``options`` say what every read of a row loads with it."""

    name: str
    path: str
    model: type[RowT]
    label: str
    options: Sequence[ExecutableOption] = ()

    def __post_init__(self) -> None:
        # Fails at import if the catalogue lacks the resource's events.
        self.created_event  # noqa: B018
        self.updated_event  # noqa: B018

    @property
    def created_event(self) -> EventType:
        return EventType(f"{self.name}.created")

    @property
    def updated_event(self) -> EventType:
        return EventType(f"{self.name}.updated")

    async def get(self, session: AsyncSession, row_id: int, *, for_update: bool = False) -> RowT:
        statement = (
            select(self.model)
            .where(sa_inspect(self.model).primary_key[0] == row_id)
            .options(*self.options)
        )
        if for_update:
            statement = statement.with_for_update(of=self.model)
        row = await session.scalar(statement)
        if row is None:
            raise NotFound(f"{self.label} {row_id} does not exist.")
        return row

    async def get_for_write(self, session: AsyncSession, row_id: int, if_match: str | None) -> RowT:
        """The row locked for a change, once If-Match (when sent) names its current ETag."""
        row = await self.get(session, row_id, for_update=True)
        self.check_if_match(if_match, row)
        return row

    def etag(self, row: Versioned) -> str:
        return f'"{self.name}-{row.id}-v{row.version}"'

    def check_if_match(self, if_match: str | None, row: Versioned) -> None:
        check_if_match(if_match, self.etag(row))

    def set_etag(self, response: Response, row: Versioned) -> None:
        response.headers["ETag"] = self.etag(row)

    def set_created(self, response: Response, row: Versioned) -> None:
        response.headers["Location"] = f"{self.path}/{row.id}"
        self.set_etag(response, row)

    async def record_created(
        self, session: AsyncSession, *, actor_id: int | None, read: BaseModel, via: str = "api"
    ) -> None:
        await record_event(
            session,
            self.created_event,
            actor_id=actor_id,
            via=via,
            data={self.name: read.model_dump(mode="json")},
        )

    async def record_updated(
        self,
        session: AsyncSession,
        *,
        actor_id: int | None,
        resource_id: int,
        changes: list[Change],
        **extra: Any,
    ) -> None:
        """Records ``<name>.updated`` with ``{<name>_id, changes, **extra}``; nothing when
        nothing changed."""
        if not changes:
            return
        await record_event(
            session,
            self.updated_event,
            actor_id=actor_id,
            data={f"{self.name}_id": resource_id, "changes": changes, **extra},
        )


def touch(row: object) -> None:
    """Move ``updated_at`` (and so the version) when only the row's children changed.

    The database's transaction time, like the column's default and ``onupdate``: one clock for
    every ``updated_at``. The attribute is expired by the flush; reload before reading it.
    """
    setattr(row, "updated_at", func.now())  # noqa: B010

"""Keyset pagination with opaque cursors: stable under concurrent inserts, never OFFSET."""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from helpdesk_api.core.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 100

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")]
Cursor = Annotated[
    str | None,
    Query(max_length=1024, description="Opaque cursor from the previous page's `next_cursor`."),
]


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class SortKey:
    column: ColumnElement[Any] | QueryableAttribute[Any]
    value: Callable[[Any], Any]  # reads the key's value off a result row
    descending: bool = False


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"dt"}:
        return datetime.fromisoformat(value["dt"])
    return value


def encode_cursor(ordering: str, values: Sequence[Any]) -> str:
    raw = json.dumps(
        {"o": ordering, "v": [_encode_value(v) for v in values]}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: str, arity: int) -> list[Any]:
    bad = InvalidInput(
        "The cursor is not valid here: pass `next_cursor` from the previous page unchanged, "
        "with the same sort.",
        loc=("query", "cursor"),
        type="cursor_invalid",
    )
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = [_decode_value(v) for v in payload["v"]]
        if payload["o"] != ordering or len(values) != arity:
            raise bad
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise bad from exc
    return values


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    if len({k.descending for k in keys}) == 1:
        # One direction: a row comparison, which PostgreSQL answers from a matching index.
        left = tuple_(*(k.column for k in keys))
        right = tuple_(*values)
        return left < right if keys[0].descending else left > right
    clauses = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].column == values[j] for j in range(i)]
        step = key.column < values[i] if key.descending else key.column > values[i]
        clauses.append(and_(*equal_prefix, step))
    return or_(*clauses)


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    *,
    keys: Sequence[SortKey],
    limit: int,
    cursor: str | None,
    ordering: str = "id",
    scalars: bool = True,
) -> tuple[list[Any], str | None]:
    """Run ``statement`` one page at a time; the last key must be unique (normally the id)."""
    if cursor:
        statement = statement.where(_after(keys, decode_cursor(cursor, ordering, len(keys))))
    statement = statement.order_by(
        *(k.column.desc() if k.descending else k.column.asc() for k in keys)
    ).limit(limit + 1)
    result = await session.execute(statement)
    rows = list(result.scalars().all() if scalars else result.all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(ordering, [k.value(rows[-1]) for k in keys])
    return rows, next_cursor

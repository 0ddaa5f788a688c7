"""Exact per-tag ticket counts, adjusted in the transaction that changes a ticket's tags."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from helpdesk_api.access.visibility import ticket_visibility
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.models import TagCount, Ticket, TicketAccess

# One statement for every tag, in a fixed order so that two transactions touching the same
# tags lock their rows in the same order and cannot deadlock. A tag seen for the first time
# starts at its delta (never below zero); a known one moves by it.
_ADJUST = text("""
    WITH changes (tag, delta) AS (
        SELECT * FROM unnest(CAST(:tags AS varchar[]), CAST(:deltas AS integer[]))
    )
    INSERT INTO tag_counts (tag, ticket_count)
    SELECT tag, greatest(delta, 0) FROM changes ORDER BY tag
    ON CONFLICT (tag) DO UPDATE SET ticket_count = tag_counts.ticket_count
        + (SELECT delta FROM changes WHERE changes.tag = excluded.tag)
""")


async def adjust_tag_counts(
    session: AsyncSession, added: Iterable[str], removed: Iterable[str]
) -> None:
    deltas = dict.fromkeys(added, 1) | dict.fromkeys(removed, -1)
    if not deltas:
        return
    tags = sorted(deltas)
    await session.execute(_ADJUST, {"tags": tags, "deltas": [deltas[tag] for tag in tags]})


def _like_prefix(
    column: ColumnElement[str] | InstrumentedAttribute[str], prefix: str
) -> ColumnElement[bool]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"{escaped}%")


async def list_tag_counts(
    session: AsyncSession, principal: Principal, *, prefix: str | None, limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:  # fmt: skip
    """Tags with their ticket counts, most used first. Staff who see every ticket read the
    exact counts kept by ``adjust_tag_counts``; staff limited to some groups get counts over
    the tickets they may see, computed per request (their groups' tickets, through the
    group index), so another group's tags never show."""
    if principal.ticket_access == TicketAccess.all:
        counts = select(TagCount.tag, TagCount.ticket_count).where(TagCount.ticket_count > 0)
        if prefix:
            counts = counts.where(_like_prefix(TagCount.tag, prefix))
        table = counts.subquery()
    else:
        tag = func.unnest(Ticket.tags).table_valued("value").render_derived()
        visible_tags = (
            select(tag.c.value.label("tag"), func.count().label("ticket_count"))
            .select_from(Ticket)
            .join(tag, true())
            .where(ticket_visibility(principal))
            .group_by(tag.c.value)
        )
        if prefix:
            visible_tags = visible_tags.where(_like_prefix(tag.c.value, prefix))
        table = visible_tags.subquery()
    return await paginate(
        session,
        select(table.c.tag, table.c.ticket_count),
        keys=[
            SortKey(table.c.ticket_count, lambda t: t.ticket_count, descending=True),
            SortKey(table.c.tag, lambda t: t.tag),
        ],
        limit=limit,
        cursor=cursor,
        ordering="tags",
        scalars=False,
    )

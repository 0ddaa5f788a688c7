"""Exact per-tag ticket counts, adjusted in the transaction that changes a ticket's tags."""

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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

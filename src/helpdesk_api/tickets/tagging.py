"""Exact per-tag ticket counts, adjusted in the transaction that changes a ticket's tags."""

from collections.abc import Iterable

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.models import TagCount


async def adjust_tag_counts(
    session: AsyncSession, added: Iterable[str], removed: Iterable[str]
) -> None:
    deltas = dict.fromkeys(added, 1) | dict.fromkeys(removed, -1)
    # A fixed order keeps two transactions touching the same tags from deadlocking.
    for tag in sorted(deltas):
        statement = insert(TagCount).values(tag=tag, ticket_count=max(deltas[tag], 0))
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[TagCount.tag],
                set_={"ticket_count": TagCount.ticket_count + deltas[tag]},
            )
        )

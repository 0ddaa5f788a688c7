"""The one way to record a state change's event: inside the transaction that made the change."""

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.models import Event


async def record_event(
    session: AsyncSession,
    event_type: str,
    *,
    actor_id: int | None,
    data: dict[str, Any],
    via: str = "api",
    ticket_id: int | None = None,
    is_public: bool = False,
) -> None:
    await session.execute(
        insert(Event).values(
            type=event_type,
            actor_id=actor_id,
            actor_via=via,
            ticket_id=ticket_id,
            is_public=is_public,
            data=data,
        )
    )

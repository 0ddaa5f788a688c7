"""Worker job: turn committed events into deliveries for the endpoints that want them.

Reading the log (not hooking writes) means a rolled-back change delivers nothing, and a
webhook added later does not receive events from before it existed.
"""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.events.feed import Position, events_after, position_of, read_page
from helpdesk_api.models import Webhook, WebhookDelivery, WorkerCursor
from helpdesk_api.webhooks.service import payload_bytes

CURSOR_NAME = "webhooks"
BATCH = 500
# Only one worker dispatches at a time; the others deliver.
_DISPATCH_LOCK = 7_301_554_922


def _wants(webhook: Webhook, event_type: str) -> bool:
    return "*" in webhook.events or event_type in webhook.events


async def dispatch_events(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime
) -> float | None:
    async with sessionmaker() as session, session.begin():
        # An advisory lock, not a row lock: a row lock would give this transaction an id
        # and hold the event horizon back behind itself.
        if not await session.scalar(select(func.pg_try_advisory_xact_lock(_DISPATCH_LOCK))):
            return None
        cursor = await session.get(WorkerCursor, CURSOR_NAME)
        position = Position(cursor.tx_id, cursor.event_id) if cursor else Position()
        events = await read_page(session, events_after(position), BATCH)
        if not events:
            return None
        webhooks = list(await session.scalars(select(Webhook).where(Webhook.is_active)))
        rows = [
            {
                "webhook_id": webhook.id,
                "event_id": event.id,
                "msg_id": f"msg_{event.id}_{webhook.id}",
                "event_type": event.type,
                "payload": payload_bytes(
                    event.type,
                    event.occurred_at,
                    {"event_id": event.id, "ticket_id": event.ticket_id, **event.data},
                ),
            }
            for event in events
            for webhook in webhooks
            if _wants(webhook, event.type) and event.occurred_at >= webhook.created_at
        ]
        if rows:
            await session.execute(insert(WebhookDelivery).values(rows).on_conflict_do_nothing())
        last = position_of(events[-1])
        statement = insert(WorkerCursor).values(
            name=CURSOR_NAME, tx_id=last.tx_id, event_id=last.event_id, updated_at=now
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[WorkerCursor.name],
                set_={"tx_id": last.tx_id, "event_id": last.event_id, "updated_at": now},
            )
        )
    return 0.0 if len(events) == BATCH else None

"""Badge counts of views, bounded so polling them never scans a million tickets.

Each count reads at most ``cap + 1`` matching ticket ids (an index range or a bounded scan,
stopped early) and says ``capped`` beyond; the result is kept in this process for
``ttl`` seconds per view version and caller (visibility and "me"/"mine" make counts the
caller's own), so a UI polling every few seconds costs one count per TTL. Chosen over
counters maintained on every ticket change: a view's conditions can be any mix of fields,
so maintaining them would put a write per view on every change of every ticket.
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import visible_tickets
from helpdesk_api.core.auth import Principal
from helpdesk_api.models import Ticket, View
from helpdesk_api.views.conditions import ViewConditions, view_filter
from helpdesk_api.views.schemas import ViewCount

MAX_KEPT = 10_000  # counts kept per process, least recently counted dropped first


@dataclass(frozen=True, slots=True)
class _Key:
    view_id: int
    version: int
    user_id: int
    group_ids: frozenset[int]
    access: str


class ViewCountCache:
    def __init__(self, ttl_seconds: float, cap: int) -> None:
        self.ttl = timedelta(seconds=ttl_seconds)
        self.cap = cap
        self._kept: OrderedDict[_Key, ViewCount] = OrderedDict()

    async def count(
        self, session: AsyncSession, principal: Principal, view: View, now: datetime
    ) -> ViewCount:
        key = _Key(
            view.id,
            view.version,
            principal.user_id,
            frozenset(principal.group_ids),
            str(principal.ticket_access),
        )
        kept = self._kept.get(key)
        if kept is not None and timedelta(0) <= now - kept.counted_at < self.ttl:
            return kept
        counted = await self._count(session, principal, view, now)
        self._kept[key] = counted
        self._kept.move_to_end(key)
        while len(self._kept) > MAX_KEPT:
            self._kept.popitem(last=False)
        return counted

    async def _count(
        self, session: AsyncSession, principal: Principal, view: View, now: datetime
    ) -> ViewCount:
        if not view.is_active:
            return ViewCount(view_id=view.id, count=0, capped=False, counted_at=now)
        conditions = ViewConditions.model_validate(view.conditions)
        matching = (
            visible_tickets(principal)
            .where(view_filter(conditions, principal, now))
            .with_only_columns(Ticket.id)
            .limit(self.cap + 1)
            .subquery()
        )
        found = await session.scalar(select(func.count()).select_from(matching)) or 0
        return ViewCount(
            view_id=view.id, count=min(found, self.cap), capped=found > self.cap, counted_at=now
        )

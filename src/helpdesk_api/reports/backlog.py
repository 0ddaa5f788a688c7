"""The open backlog: a daily snapshot by status category, group and priority (a worker job),
its history from those snapshots, and the age of what is open now."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import case, exists, func, insert, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.access.visibility import ticket_visibility
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.models import BacklogSnapshot, Ticket, TicketAccess

OPEN = ("new", "open", "pending", "on_hold")
# Upper bounds of the age buckets, in hours; the last bucket has none.
AGE_BUCKETS = (("under_1h", 1), ("1h_8h", 8), ("8h_24h", 24), ("1d_3d", 72), ("3d_7d", 168),
               ("7d_30d", 720), ("over_30d", None))  # fmt: skip
Dimension = Literal["status_category", "group", "priority"]
MAX_DAYS = 366 * 3


async def take_snapshot(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime
) -> float | None:
    """Worker job: once per UTC day, the open tickets by status category, group and priority
    as the day's first run finds them (a snapshot missed while no worker ran is not made up:
    the tickets no longer tell it). Returns the seconds until the next day."""
    today = now.astimezone(UTC).date()
    tomorrow = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
    async with sessionmaker() as session, session.begin():
        # Cheap when done, as it is on most wake-ups (the worker wakes jobs on every event).
        if await session.scalar(select(exists().where(BacklogSnapshot.day == today))):
            return (tomorrow - now).total_seconds()
        # Two workers: the second waits here, then finds the first one's rows.
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('backlog_snapshots'))"))
        if await session.scalar(select(exists().where(BacklogSnapshot.day == today))):
            return (tomorrow - now).total_seconds()
        counts = (
            select(
                literal(today).label("day"),
                Ticket.status_category,
                Ticket.group_id,
                Ticket.priority,
                func.count().label("tickets"),
                literal(now).label("taken_at"),
            )
            .where(Ticket.status_category.in_(OPEN))
            .group_by(Ticket.status_category, Ticket.group_id, Ticket.priority)
        )
        await session.execute(
            insert(BacklogSnapshot).from_select(
                ["day", "status_category", "group_id", "priority", "tickets", "taken_at"], counts
            )
        )
    return (tomorrow - now).total_seconds()


class BacklogPoint(BaseModel):
    day: date
    group: str | None = Field(description="The dimension's value; null without group_by.")
    tickets: int


class BacklogHistory(BaseModel):
    group_by: Dimension | None
    data: list[BacklogPoint]


async def history(
    session: AsyncSession,
    principal: Principal,
    start: date,
    end: date,
    group_by: Dimension | None,
) -> BacklogHistory:
    """Each day's snapshot in [start, end], summed by the dimension. A group-restricted
    agent counts their groups' tickets only."""
    if start > end:
        raise InvalidInput("from must not be after to.", loc=("query", "from"), type="range")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(f"At most {MAX_DAYS} days.", loc=("query", "to"), type="range_too_long")
    key = {
        None: literal(None),
        "status_category": BacklogSnapshot.status_category,
        "group": BacklogSnapshot.group_id,
        "priority": BacklogSnapshot.priority,
    }[group_by]
    statement = select(BacklogSnapshot.day, key, func.sum(BacklogSnapshot.tickets)).where(
        BacklogSnapshot.day >= start, BacklogSnapshot.day <= end
    )
    if principal.ticket_access != TicketAccess.all:
        statement = statement.where(BacklogSnapshot.group_id.in_(principal.group_ids))
    groups = [BacklogSnapshot.day] + ([key] if group_by else [])
    rows = (await session.execute(statement.group_by(*groups).order_by(*groups))).all()
    return BacklogHistory(
        group_by=group_by,
        data=[
            BacklogPoint(day=day, group=None if k is None else str(k), tickets=n)
            for day, k, n in rows
        ],
    )


class AgeBucket(BaseModel):
    age: str = Field(description="under_1h, 1h_8h, 8h_24h, 1d_3d, 3d_7d, 7d_30d, over_30d.")
    tickets: dict[str, int] = Field(description="Open tickets of that age per status category.")


class BacklogAge(BaseModel):
    at: datetime
    data: list[AgeBucket]


async def age(session: AsyncSession, principal: Principal, now: datetime) -> BacklogAge:
    """The open tickets the caller may see, by age since creation and status category."""
    hours = func.extract("epoch", literal(now) - Ticket.created_at) / 3600
    bucket = case(
        *((hours < bound, name) for name, bound in AGE_BUCKETS if bound is not None),
        else_=AGE_BUCKETS[-1][0],
    )
    rows = (
        await session.execute(
            select(bucket, Ticket.status_category, func.count())
            .where(Ticket.status_category.in_(OPEN), ticket_visibility(principal))
            .group_by(bucket, Ticket.status_category)
        )
    ).all()
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for name, category, n in rows:
        table[name][category] = n
    return BacklogAge(
        at=now,
        data=[
            AgeBucket(age=name, tickets={c: table[name].get(c, 0) for c in OPEN})
            for name, _ in AGE_BUCKETS
        ],
    )

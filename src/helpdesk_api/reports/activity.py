"""Agent and team activity for a period: tickets solved, public replies, CSAT and SLA
achievement, per agent or per group, over the tickets the caller may see.

* solved: tickets whose latest solve lies in the period, by their assignee (group) now;
  a merged source solved nothing;
* replies: public comments staff wrote in the period, by their author (by the ticket's group);
* CSAT: ratings given in the period, by the assignee (group) the rating was about;
* SLA: clocks achieved or breached in the period, by the ticket's assignee (group) now.

A group-restricted agent sees the figures of tickets they may see, and per group only their
groups.
"""

from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Float, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import ticket_visibility
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.models import (
    SatisfactionRating,
    Ticket,
    TicketAccess,
    TicketComment,
    TicketMetrics,
    TicketSlaMetric,
    User,
)
from helpdesk_api.reports import families as f

By = Literal["agent", "group"]
MAX_DAYS = 366 * 2


class ActivityRow(BaseModel):
    id: int | None = Field(description="The agent's or group's id; null: unassigned.")
    solved: int
    replies: int
    csat_score: float | None = Field(description="Share of good ratings; null: none.")
    csat_ratings: int
    sla_achieved_rate: float | None = Field(description="Share of SLA clocks achieved.")
    sla_measured: int = Field(description="SLA clocks achieved or breached in the period.")


class ActivityReport(BaseModel):
    by: By
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    data: list[ActivityRow]

    model_config = {"populate_by_name": True}


def _rate(hits: Any, total: Any) -> Any:
    return cast(hits, Float) / func.nullif(total, 0)


async def activity(
    session: AsyncSession, principal: Principal, by: By, start: datetime, end: datetime
) -> ActivityReport:
    if start >= end:
        raise InvalidInput("from must be before to.", loc=("query", "from"), type="range")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(f"At most {MAX_DAYS} days.", loc=("query", "to"), type="range_too_long")
    visible = ticket_visibility(principal)
    ticket_key = Ticket.assignee_id if by == "agent" else Ticket.group_id
    cells: dict[int | None, dict[str, Any]] = defaultdict(dict)

    solved = (
        select(ticket_key, func.count())
        .select_from(f.METRICS_JOIN)
        .where(TicketMetrics.solved_at >= start, TicketMetrics.solved_at < end, f.NOT_MERGED,
               visible)
        .group_by(ticket_key)
    )  # fmt: skip
    for key, n in (await session.execute(solved)).all():
        cells[key]["solved"] = n

    reply_key = TicketComment.author_id if by == "agent" else Ticket.group_id
    replies = (
        select(reply_key, func.count())
        .select_from(TicketComment)
        .join(Ticket, Ticket.id == TicketComment.ticket_id)
        .join(User, User.id == TicketComment.author_id)
        .where(
            TicketComment.is_public.is_(True),
            TicketComment.created_at >= start,
            TicketComment.created_at < end,
            User.role.in_(("admin", "agent")),
            visible,
        )
        .group_by(reply_key)
    )
    for key, n in (await session.execute(replies)).all():
        cells[key]["replies"] = n

    rating_key = SatisfactionRating.assignee_id if by == "agent" else SatisfactionRating.group_id
    good = func.count().filter(SatisfactionRating.score == "good")
    ratings = (
        select(rating_key, _rate(good, func.count()), func.count())
        .select_from(f.CSAT.source)
        .where(SatisfactionRating.rated_at >= start, SatisfactionRating.rated_at < end,
               *f.CSAT.where, visible)
        .group_by(rating_key)
    )  # fmt: skip
    for key, score, n in (await session.execute(ratings)).all():
        cells[key]["csat_score"], cells[key]["csat_ratings"] = score, n

    achieved = func.count().filter(TicketSlaMetric.status == "achieved")
    sla = (
        select(ticket_key, _rate(achieved, func.count()), func.count())
        .select_from(f.SLA.source)
        .where(f.SLA.time >= start, f.SLA.time < end, *f.SLA.where, visible)
        .group_by(ticket_key)
    )
    for key, rate, n in (await session.execute(sla)).all():
        cells[key]["sla_achieved_rate"], cells[key]["sla_measured"] = rate, n

    if by == "group" and principal.ticket_access != TicketAccess.all:
        # Tickets assigned to them in other groups are theirs to count, not those groups'.
        cells = defaultdict(dict, {k: v for k, v in cells.items() if k in principal.group_ids})
    rows = [
        ActivityRow(
            id=key,
            solved=cell.get("solved", 0),
            replies=cell.get("replies", 0),
            csat_score=_round(cell.get("csat_score")),
            csat_ratings=cell.get("csat_ratings", 0),
            sla_achieved_rate=_round(cell.get("sla_achieved_rate")),
            sla_measured=cell.get("sla_measured", 0),
        )
        for key, cell in sorted(cells.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]
    return ActivityReport(by=by, start=start, end=end, data=rows)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)

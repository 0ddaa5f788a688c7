"""The ratings list: staff read the ratings of tickets they may see, customers their own."""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import ticket_visibility
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.models import SatisfactionRating, SatisfactionScore, Ticket
from helpdesk_api.satisfaction.presenting import customer_rating, staff_rating
from helpdesk_api.satisfaction.schemas import RatingPage

R = SatisfactionRating


async def list_ratings(
    session: AsyncSession,
    principal: Principal,
    *,
    assignee_id: int | None,
    group_id: int | None,
    requester_id: int | None = None,
    score: SatisfactionScore | None,
    rated_from: datetime | None,
    rated_to: datetime | None,
    limit: int,
    cursor: str | None,
) -> RatingPage:
    """Newest rating first, rated ones only. Each filter is one index range (rated_at, id)."""
    if not principal.is_staff and (
        assignee_id is not None or group_id is not None or requester_id is not None
    ):
        # Filtering by agent would tell a customer who solved their ticket.
        raise Forbidden("Customers list their own ratings; agent and group filters are staff's.")
    # Rows of (rating, requester id): the requester is the ticket's (merges move tickets).
    statement = cast(
        "Select[Any]",
        select(R, Ticket.requester_id)
        .join(Ticket, Ticket.id == R.ticket_id)
        .where(R.score.is_not(None)),
    )
    if principal.is_staff:
        statement = statement.where(ticket_visibility(principal))
    else:
        # Only tickets they asked for: not colleagues' tickets their organisation shares.
        statement = statement.where(Ticket.requester_id == principal.user_id)
    if assignee_id is not None:
        statement = statement.where(R.assignee_id == assignee_id)
    if group_id is not None:
        statement = statement.where(R.group_id == group_id)
    if requester_id is not None:
        statement = statement.where(Ticket.requester_id == requester_id)
    if score is not None:
        statement = statement.where(R.score == score.value)
    if rated_from is not None:
        statement = statement.where(R.rated_at >= rated_from)
    if rated_to is not None:
        statement = statement.where(R.rated_at < rated_to)
    keys = [
        SortKey(R.rated_at, lambda row: row.SatisfactionRating.rated_at, descending=True),
        SortKey(R.id, lambda row: row.SatisfactionRating.id, descending=True),
    ]
    rows, next_cursor = await paginate(
        session, statement, keys=keys, limit=limit, cursor=cursor, ordering="-rated_at",
        scalars=False,
    )  # fmt: skip
    if principal.is_staff:
        data: list[Any] = [staff_rating(r.SatisfactionRating, r.requester_id) for r in rows]
    else:
        data = [customer_rating(r.SatisfactionRating) for r in rows]
    return RatingPage(data=data, next_cursor=next_cursor)

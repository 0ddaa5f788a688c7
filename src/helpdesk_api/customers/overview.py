"""One customer's page in a fixed number of queries, whatever their history: the profile,
counts per status category, two capped ticket lists, the assets owned, the rating summary
and its latest ratings. Every ticket read goes through the caller's visibility."""

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import ticket_visibility
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import NotFound
from helpdesk_api.customers.schemas import (
    CAP,
    CustomerOverview,
    OrganizationRef,
    ProductsPart,
    SatisfactionPart,
    TicketsPart,
)
from helpdesk_api.models import (
    Asset,
    Organization,
    Role,
    SatisfactionRating,
    SatisfactionScore,
    StatusCategory,
    Ticket,
)
from helpdesk_api.products.assets import assets_with_products
from helpdesk_api.products.assets import to_read as asset_read
from helpdesk_api.satisfaction.presenting import staff_rating
from helpdesk_api.tickets import present_to_staff
from helpdesk_api.users.service import get_user, to_read

_DONE = (StatusCategory.solved, StatusCategory.closed)


async def customer_overview(
    session: AsyncSession, principal: Principal, user_id: int
) -> CustomerOverview:
    user = await get_user(session, user_id)
    if user.role != Role.customer:
        raise NotFound(f"User {user_id} is not a customer: overviews are of customers.")
    visible = ticket_visibility(principal)
    theirs = (Ticket.requester_id == user_id, visible)

    counted = await session.execute(
        select(Ticket.status_category, func.count(), func.max(Ticket.created_at),
               func.max(Ticket.last_requester_reply_at))
        .where(*theirs)
        .group_by(Ticket.status_category)
    )  # fmt: skip
    counts = dict.fromkeys(StatusCategory, 0)
    last_contact = None
    for category, number, created, replied in counted.all():
        counts[StatusCategory(category)] = number
        for moment in (created, replied):
            if moment is not None and (last_contact is None or moment > last_contact):
                last_contact = moment

    open_rows = await session.scalars(
        select(Ticket)
        .where(*theirs, Ticket.status_category.not_in(_DONE))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(CAP)
    )
    recent_rows = await session.scalars(
        select(Ticket)
        .where(*theirs)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(CAP)
    )
    open_tickets, recent = list(open_rows), list(recent_rows)
    presented = await present_to_staff(session, [*open_tickets, *recent])
    organization = (
        await session.get(Organization, user.organization_id)
        if user.organization_id is not None
        else None
    )
    return CustomerOverview(
        user=to_read(user),
        organization=OrganizationRef(id=organization.id, name=organization.name)
        if organization is not None
        else None,
        first_seen_at=user.created_at,
        last_contact_at=last_contact,
        tickets=TicketsPart(
            counts=counts,
            open=presented[: len(open_tickets)],
            recent=presented[len(open_tickets) :],
            more=f"/v1/tickets?requester_id={user_id}",
        ),
        products=await _products(session, user_id),
        satisfaction=await _satisfaction(session, user_id, theirs),
    )


async def _products(session: AsyncSession, user_id: int) -> ProductsPart:
    count = await session.scalar(select(func.count()).where(Asset.user_id == user_id))
    latest = await session.execute(
        assets_with_products(user_id).order_by(Asset.id.desc()).limit(CAP)
    )
    return ProductsPart(
        count=count or 0,
        assets=[asset_read(r.Asset, r.Product) for r in latest.all()],
        more=f"/v1/users/{user_id}/assets",
    )


async def _satisfaction(session: AsyncSession, user_id: int, theirs: Any) -> SatisfactionPart:
    rated = (
        select(SatisfactionRating)
        .join(Ticket, Ticket.id == SatisfactionRating.ticket_id)
        .where(*theirs, SatisfactionRating.score.is_not(None))
    )
    good = case((SatisfactionRating.score == SatisfactionScore.good.value, 1), else_=0)
    summary = (
        await session.execute(
            rated.with_only_columns(func.count(), func.coalesce(func.sum(good), 0))
        )
    ).one()
    latest = await session.scalars(
        rated.order_by(SatisfactionRating.rated_at.desc(), SatisfactionRating.id.desc()).limit(CAP)
    )
    total, good_count = int(summary[0]), int(summary[1])
    return SatisfactionPart(
        rated=total,
        good=good_count,
        good_share=good_count / total if total else None,
        recent=[staff_rating(r, user_id) for r in latest],
        more=f"/v1/satisfaction-ratings?requester_id={user_id}",
    )

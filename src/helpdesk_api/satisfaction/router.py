from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from helpdesk_api.core.auth import Authenticated
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.errors import Forbidden, problem_responses
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId, Timestamp
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import SatisfactionScore
from helpdesk_api.satisfaction import listing, service
from helpdesk_api.satisfaction.schemas import (
    PublicSurvey,
    RatingPage,
    RatingSubmit,
    TicketSatisfaction,
)
from helpdesk_api.satisfaction.views import public_survey, ticket_satisfaction

router = APIRouter(prefix="/v1", tags=["satisfaction"], route_class=TransactionalRoute)

Token = Annotated[str, Path(min_length=1, max_length=100, description="The rating link's token.")]
RATING_STATES = problem_responses(
    status_409="The ticket is not solved, was reopened since, or is closed",
)
LINK_STATES = problem_responses(
    status_409="The ticket was reopened since the link was sent, or is closed",
    status_410="The rating link has expired",
)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/satisfaction-ratings")
async def list_satisfaction_ratings(
    session: DB,
    principal: Authenticated,
    assignee_id: int | None = None,
    group_id: int | None = None,
    requester_id: int | None = None,
    score: SatisfactionScore | None = None,
    rated_from: Annotated[Timestamp | None, Query(description="Rated at or after.")] = None,
    rated_to: Annotated[Timestamp | None, Query(description="Rated before.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> RatingPage:
    """Rated tickets, newest rating first. Staff see the ratings of tickets they may see,
    with who solved them (`assignee_id`, `group_id` when rated) and may filter by them;
    a customer sees only the ratings they gave, of tickets they requested (never a
    colleague's on a shared organisation ticket), and may not filter by agent, group or
    requester."""
    return await listing.list_ratings(
        session, principal, assignee_id=assignee_id, group_id=group_id,
        requester_id=requester_id, score=score,
        rated_from=rated_from, rated_to=rated_to, limit=limit, cursor=cursor,
    )  # fmt: skip


@router.get("/tickets/{ticket_id}/satisfaction")
async def get_ticket_satisfaction(
    ticket_id: ResourceId, session: DB, principal: Authenticated, request: Request
) -> TicketSatisfaction:
    """The current resolution's rating: for staff who see the ticket, and for its requester
    (other customers who see the ticket, through CCs or their organisation, get a 403)."""
    ticket = await service.ticket_of_requester(session, principal, ticket_id)
    rating = await service.current_rating(session, ticket)
    return ticket_satisfaction(_settings(request), ticket, rating)


@router.put("/tickets/{ticket_id}/satisfaction", responses=RATING_STATES)
async def rate_ticket(
    ticket_id: ResourceId,
    data: RatingSubmit,
    session: DB,
    principal: Authenticated,
    request: Request,
    now: Now,
) -> TicketSatisfaction:
    """The requester rates their solved ticket (or changes the rating, until it closes):
    the same as the e-mail's rating link, signed in. Staff cannot rate."""
    ticket = await service.ticket_of_requester(session, principal, ticket_id, lock=True)
    if principal.is_staff:
        raise Forbidden("Only the ticket's requester rates it.")
    rating = await service.current_rating(session, ticket, lock=True)
    settings = _settings(request)
    rating = await service.rate(session, settings, ticket, rating, data, now=now)
    return ticket_satisfaction(settings, ticket, rating)


@router.get("/public/satisfaction/{token}", responses=LINK_STATES)
async def get_rating_survey(token: Token, session: DB, request: Request, now: Now) -> PublicSurvey:
    """What the rating page shows: the ticket's number and subject, the scale, the rating
    so far and whether it can still change. No bearer token: the link's token is the key."""
    ticket, rating = await service.ticket_for_token(session, token, now=now)
    return public_survey(_settings(request), ticket, rating)


@router.post("/public/satisfaction/{token}", responses=LINK_STATES)
async def rate_by_link(
    token: Token, data: RatingSubmit, session: DB, request: Request, now: Now
) -> PublicSurvey:
    """Rates the solved ticket the link was sent for, or changes its rating, until the
    ticket closes or the link expires. A link is for one resolution: once the ticket is
    reopened it no longer works (solving it again sends a new one). Sending the same
    rating again changes nothing."""
    ticket, rating = await service.ticket_for_token(session, token, now=now, lock=True)
    settings = _settings(request)
    rating = await service.rate(session, settings, ticket, rating, data, now=now)
    return public_survey(settings, ticket, rating)

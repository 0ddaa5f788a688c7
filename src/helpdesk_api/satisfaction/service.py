"""Rating a solved ticket, through the link's token or as the signed-in requester.

One rating per solved cycle, changeable while the ticket stays solved; reopening ends the
cycle (solving again starts a new one), closing ends rating. The rating is a change of the
ticket (``satisfaction_score``), so it is audited and triggers see it; a bad rating can
reopen the ticket (setting), in the same change.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.actor import Actor
from helpdesk_api.core.auth import Principal, hash_token
from helpdesk_api.core.errors import Conflict, Forbidden, InvalidInput, NotFound, ProblemError
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import (
    Role,
    SatisfactionRating,
    SatisfactionScore,
    StatusCategory,
    Ticket,
    Via,
)
from helpdesk_api.satisfaction.presenting import staff_rating
from helpdesk_api.satisfaction.schemas import RatingSubmit
from helpdesk_api.satisfaction.tokens import TOKEN_PREFIX, in_rated_cycle
from helpdesk_api.statuses.service import default_status
from helpdesk_api.tickets import ChangeSet, commit_change, get_visible_ticket, set_status


class RatingLinkExpired(ProblemError):
    status, slug, title = 410, "rating-link-expired", "Gone"


class RatingClosed(Conflict):
    """The cycle the rating is for has ended: the ticket was reopened or closed."""


def _unknown_link() -> NotFound:
    return NotFound("This rating link is not valid.")


async def ticket_for_token(
    session: AsyncSession, token: str, *, now: datetime, lock: bool = False
) -> tuple[Ticket, SatisfactionRating]:
    """The ticket and rating a link is for: 404 for an unknown link, 410 for an expired one
    (the ticket's state is told by ``check_open``)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise _unknown_link()
    rating_id = await session.scalar(
        select(SatisfactionRating.id).where(SatisfactionRating.token_hash == hash_token(token))
    )
    if rating_id is None:
        raise _unknown_link()
    # The ticket first, then its rating: the order the requester's own path locks them in.
    ticket_query = (
        select(Ticket)
        .join(SatisfactionRating, SatisfactionRating.ticket_id == Ticket.id)
        .where(SatisfactionRating.id == rating_id)
    )
    ticket = await session.scalar(ticket_query.with_for_update(of=Ticket) if lock else ticket_query)
    rating_query = select(SatisfactionRating).where(SatisfactionRating.id == rating_id)
    rating = await session.scalar(
        (rating_query.with_for_update() if lock else rating_query).execution_options(
            populate_existing=True
        )
    )
    if ticket is None or rating is None:
        raise _unknown_link()
    if rating.expires_at is not None and rating.expires_at <= now:
        raise RatingLinkExpired("This rating link has expired.")
    return ticket, rating


def is_open(ticket: Ticket, rating: SatisfactionRating | None) -> bool:
    return in_rated_cycle(ticket) and (rating is None or rating.solved_at == ticket.solved_at)


def check_open(ticket: Ticket, rating: SatisfactionRating | None) -> None:
    if ticket.status_category == StatusCategory.closed:
        raise RatingClosed(f"Ticket {ticket.id} is closed: its rating can no longer change.")
    if not is_open(ticket, rating):
        raise RatingClosed(
            f"Ticket {ticket.id} is not solved (or was reopened since this rating was "
            "offered): a rating is given once it is solved."
        )


async def current_rating(
    session: AsyncSession, ticket: Ticket, *, lock: bool = False
) -> SatisfactionRating | None:
    if ticket.solved_at is None:
        return None
    statement = select(SatisfactionRating).where(
        SatisfactionRating.ticket_id == ticket.id,
        SatisfactionRating.solved_at == ticket.solved_at,
    )
    if lock:
        statement = statement.with_for_update()
    return await session.scalar(statement.execution_options(populate_existing=True))


async def ticket_of_requester(
    session: AsyncSession, principal: Principal, ticket_id: int, *, lock: bool = False
) -> Ticket:
    """The ticket, if the caller may read its rating: staff who see it, or its requester."""
    ticket = await get_visible_ticket(session, principal, ticket_id, for_update=lock)
    if not principal.is_staff and ticket.requester_id != principal.user_id:
        raise Forbidden("Only the ticket's requester sees and gives its rating.")
    return ticket


def _score_of(settings: Settings, data: RatingSubmit) -> SatisfactionScore:
    if settings.satisfaction_scale == "five_point":
        if data.rating is None:
            raise InvalidInput("Give a rating from 1 to 5.", loc=("body", "rating"))
        derived = SatisfactionScore.good if data.rating >= 4 else SatisfactionScore.bad
        if data.score is not None and data.score != derived:
            raise InvalidInput(
                f"A rating of {data.rating} is {derived.value}, not {data.score.value}.",
                loc=("body", "score"),
            )
        return derived
    if data.rating is not None:
        raise InvalidInput(
            "Ratings here are good or bad: give score, not rating.", loc=("body", "rating")
        )
    if data.score is None:
        raise InvalidInput("Give a score: good or bad.", loc=("body", "score"))
    return data.score


async def rate(
    session: AsyncSession,
    settings: Settings,
    ticket: Ticket,
    rating: SatisfactionRating | None,
    data: RatingSubmit,
    *,
    now: datetime,
) -> SatisfactionRating:
    """Record the requester's rating of the locked ``ticket``'s current cycle, as a change
    by the requester ``via: satisfaction`` (by link or signed in alike)."""
    via = Via.satisfaction
    if not settings.satisfaction_enabled:
        raise Forbidden("Satisfaction ratings are turned off.")
    check_open(ticket, rating)
    score = _score_of(settings, data)
    assert ticket.solved_at is not None
    if rating is None:
        rating = SatisfactionRating(ticket_id=ticket.id, solved_at=ticket.solved_at, offered_at=now)
        session.add(rating)
    elif (rating.score, rating.rating, rating.reason, rating.comment) == (
        score.value,
        data.rating,
        data.reason,
        data.comment,
    ):
        return rating  # the same answer again (a resent form): nothing changes
    first = rating.score is None
    previous = rating.score
    rating.score = score
    rating.rating = data.rating
    rating.reason = data.reason
    rating.comment = data.comment
    rating.assignee_id, rating.group_id = ticket.assignee_id, ticket.group_id
    rating.rated_at = rating.rated_at or now
    rating.updated_at = now
    actor = Actor(user_id=ticket.requester_id, role=Role.customer, via=via)
    changes = ChangeSet()
    if not changes.set(ticket, "satisfaction_score", score.value) and first:
        # A new resolution's first rating is news even when it repeats the last one.
        changes.note("satisfaction_score", ticket.satisfaction_score, score.value)
    reopen = (
        score == SatisfactionScore.bad
        and previous != SatisfactionScore.bad
        and settings.satisfaction_bad_reopens
    )
    if reopen:
        set_status(ticket, await default_status(session, StatusCategory.open), changes, now)
    await session.flush()
    if changes:
        ticket.updated_at = now
        await session.flush()
        await commit_change(session, ticket, changes, actor=actor, now=now)
    await record_event(
        session,
        EventType.satisfaction_rated if first else EventType.satisfaction_changed,
        actor_id=actor.user_id,
        via=via.value,
        ticket_id=ticket.id,
        data={
            "rating": staff_rating(rating, ticket.requester_id).model_dump(mode="json"),
            "reopened": reopen,
        },
    )
    return rating

"""What a ticket's satisfaction looks like to its requester and to a rating page."""

from helpdesk_api.core.settings import Settings
from helpdesk_api.models import SatisfactionRating, SatisfactionReason, Ticket
from helpdesk_api.satisfaction.presenting import customer_rating
from helpdesk_api.satisfaction.schemas import PublicSurvey, Scale, TicketSatisfaction
from helpdesk_api.satisfaction.service import is_open

REASONS = list(SatisfactionReason)


def _scale(settings: Settings) -> Scale:
    return "five_point" if settings.satisfaction_scale == "five_point" else "good_bad"


def ticket_satisfaction(
    settings: Settings, ticket: Ticket, rating: SatisfactionRating | None
) -> TicketSatisfaction:
    rated = rating if rating is not None and rating.score is not None else None
    return TicketSatisfaction(
        ticket_id=ticket.id,
        open=settings.satisfaction_enabled and is_open(ticket, rating),
        scale=_scale(settings),
        reasons=REASONS,
        rating=customer_rating(rated) if rated is not None else None,
    )


def public_survey(settings: Settings, ticket: Ticket, rating: SatisfactionRating) -> PublicSurvey:
    return PublicSurvey(
        ticket_id=ticket.id,
        subject=ticket.subject,
        open=settings.satisfaction_enabled and is_open(ticket, rating),
        scale=_scale(settings),
        reasons=REASONS,
        score=rating.score,
        rating=rating.rating,
        reason=rating.reason,
        comment=rating.comment,
        expires_at=rating.expires_at,
    )

"""Ratings as staff and as their requester see them."""

from helpdesk_api.models import SatisfactionRating
from helpdesk_api.satisfaction.schemas import CustomerRatingRead, RatingRead

_COMMON = ("id", "ticket_id", "score", "rating", "reason", "comment", "solved_at", "rated_at",
           "updated_at")  # fmt: skip


def staff_rating(rating: SatisfactionRating, requester_id: int) -> RatingRead:
    fields = {name: getattr(rating, name) for name in _COMMON}
    return RatingRead.model_validate(
        {
            **fields,
            "requester_id": requester_id,
            "assignee_id": rating.assignee_id,
            "group_id": rating.group_id,
            "offered_at": rating.offered_at,
        }
    )


def customer_rating(rating: SatisfactionRating) -> CustomerRatingRead:
    return CustomerRatingRead.model_validate({name: getattr(rating, name) for name in _COMMON})

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import Presented, StrictModel, view_field
from helpdesk_api.models import SatisfactionReason, SatisfactionScore

Scale = Literal["good_bad", "five_point"]


class RatingSubmit(StrictModel):
    """A rating. With the `good_bad` scale (the default) `score` is required and `rating`
    refused; with `five_point` (setting `HELPDESK_SATISFACTION_SCALE`) `rating` is required
    and `score` follows from it (4–5 good, 1–3 bad; a `score` that disagrees is refused)."""

    score: SatisfactionScore | None = None
    rating: Annotated[StrictInt, Field(ge=1, le=5)] | None = None
    reason: SatisfactionReason | None = None
    comment: Annotated[str, Field(max_length=5000)] | None = None


class RatingRead(Presented):
    """A rating as staff see it: who solved the ticket and where."""

    id: int
    ticket_id: int
    requester_id: int
    assignee_id: int | None
    group_id: int | None
    score: SatisfactionScore | None = Field(description="null: offered, not rated yet.")
    rating: int | None
    reason: SatisfactionReason | None
    comment: str | None
    solved_at: datetime = Field(description="The resolution rated: one rating per solve.")
    offered_at: datetime
    rated_at: datetime | None
    updated_at: datetime | None
    view: Literal["staff"] = view_field("staff")


class CustomerRatingRead(Presented):
    """A rating as its requester sees it: their own words, nothing about the team."""

    id: int
    ticket_id: int
    score: SatisfactionScore | None
    rating: int | None
    reason: SatisfactionReason | None
    comment: str | None
    solved_at: datetime
    rated_at: datetime | None
    updated_at: datetime | None
    view: Literal["customer"] = view_field("customer")


RatingView = Annotated[RatingRead | CustomerRatingRead, Field(discriminator="view")]


class RatingPage(Page[RatingView]):
    pass


class TicketSatisfaction(BaseModel):
    """A ticket's satisfaction as its requester (or staff) sees it: whether it can be rated
    now, and the current resolution's rating, if any."""

    ticket_id: int
    open: bool = Field(
        description="Whether the requester can rate (or change the rating) now: the ticket "
        "is solved, not closed."
    )
    scale: Scale
    reasons: list[SatisfactionReason]
    rating: CustomerRatingRead | None


class PublicSurvey(BaseModel):
    """What a rating page shows before the customer answers (no token needed beyond the
    link's own): the ticket's number and subject, the scale and the rating so far."""

    ticket_id: int
    subject: str
    open: bool
    scale: Scale
    reasons: list[SatisfactionReason]
    score: SatisfactionScore | None
    rating: int | None
    reason: SatisfactionReason | None
    comment: str | None
    expires_at: datetime | None

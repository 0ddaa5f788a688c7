from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictBool

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel
from helpdesk_api.models import DeflectionState, KbDeflection


class DeflectionRead(BaseModel):
    """A bot reply and its requester's answer (staff only)."""

    id: int
    ticket_id: int
    comment_id: int | None = Field(description="The bot's reply.")
    channel_id: int | None = Field(description="The messaging channel; null: the web form.")
    requester_id: int | None
    locale: str
    article_ids: list[int] = Field(description="The articles offered, best first.")
    state: DeflectionState
    answered_by: Literal["link", "keyword"] | None = Field(
        description="`link`: POST /v1/public/deflections/{token}; `keyword`: a channel "
        'message such as "solved". Null while offered.'
    )
    offered_at: datetime
    answered_at: datetime | None


def deflection_read(row: KbDeflection) -> DeflectionRead:
    return DeflectionRead(
        id=row.id,
        ticket_id=row.ticket_id,
        comment_id=row.comment_id,
        channel_id=row.channel_id,
        requester_id=row.requester_id,
        locale=row.locale,
        article_ids=list(row.article_ids),
        state=DeflectionState(row.state),
        answered_by=row.answered_by,
        offered_at=row.offered_at,
        answered_at=row.answered_at,
    )


class DeflectionPage(Page[DeflectionRead]):
    pass


class DeflectionCounts(BaseModel):
    offered: int = Field(description="Bot replies offered in the range (every state).")
    accepted: int
    rejected: int
    unanswered: int


class DeflectionAnswer(StrictModel):
    solved: StrictBool = Field(description="True: an article solved it (the ticket is solved).")


class DeflectionAnswered(BaseModel):
    """What the requester's answer did."""

    state: Literal["accepted", "rejected"]
    ticket_id: int
    ticket_solved: bool = Field(
        description="True when this answer solved the ticket; false when it was already "
        "solved or closed, or the answer was no."
    )

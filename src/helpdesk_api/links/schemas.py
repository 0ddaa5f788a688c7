from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, StrictBool

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel
from helpdesk_api.models import LinkKind
from helpdesk_api.tickets import CommentRead, CommentText, Id


class LinkDirection(StrEnum):
    outbound = "outbound"
    inbound = "inbound"


class LinkCreate(StrictModel):
    ticket_id: Id = Field(description="The other ticket.")
    kind: LinkKind = Field(
        description="`related`; `duplicate`: this ticket duplicates the other; `incident`: "
        "one of the two is a `problem` ticket and the other an `incident` of it (either "
        "order; the link always points from the incident to the problem)."
    )


class LinkRead(BaseModel):
    id: int
    ticket_id: int = Field(description="The other ticket.")
    kind: LinkKind
    direction: LinkDirection = Field(
        description="`outbound`: this ticket is the subject (duplicates / is an incident of "
        "the other); `inbound`: the other ticket is (a duplicate of / an incident of) this one."
    )
    created_by: int | None
    created_at: datetime


class LinkPage(Page[LinkRead]):
    pass


class LinkReply(StrictModel):
    body: CommentText
    public: StrictBool = True
    status_id: Id | None = Field(
        default=None, description="Moves every answered ticket to this status as well."
    )


class LinkReplyResult(BaseModel):
    data: list[CommentRead] = Field(description="One new comment per answered ticket.")
    skipped_ticket_ids: list[int] = Field(
        description="Linked tickets left alone: closed, or not visible to the caller."
    )

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, model_validator

from helpdesk_api.conversations.schemas import CommentRead
from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel
from helpdesk_api.models import CcKind, LinkKind
from helpdesk_api.tickets.schemas import TicketRead

Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
MAX_MERGE_SOURCES = 50
CommentText = Annotated[str, Field(min_length=1, max_length=65_536)]


class MergeRequest(StrictModel):
    source_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_MERGE_SOURCES)]
    target_comment: CommentText | None = Field(
        default=None,
        description="Added to the target; by default a note naming the merged tickets.",
    )
    source_comment: CommentText | None = Field(
        default=None,
        description="Private note added to each source as it is closed; by default a note "
        "naming the target.",
    )
    public: StrictBool = Field(
        default=False, description="Whether `target_comment` is a public reply."
    )

    @model_validator(mode="after")
    def _distinct(self) -> "MergeRequest":
        if len(set(self.source_ids)) != len(self.source_ids):
            raise ValueError("source_ids must not repeat")
        return self


class MergeResult(BaseModel):
    target: TicketRead
    sources: list[TicketRead]
    copied_comment_ids: list[int] = Field(
        description="The target's new comments copied from the sources, oldest first."
    )


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


class CcRead(BaseModel):
    user_id: int
    kind: CcKind
    created_by: int | None
    created_at: datetime


class CcPage(Page[CcRead]):
    pass


class SimilarReason(StrEnum):
    same_requester = "same_requester"
    similar_subject = "similar_subject"
    similar_text = "similar_text"


class SimilarTicket(BaseModel):
    ticket: TicketRead
    score: float
    reasons: list[SimilarReason]


class SimilarList(BaseModel):
    data: list[SimilarTicket]

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, model_validator

from helpdesk_api.core.schemas import StrictModel
from helpdesk_api.tickets import CommentText, Id, TicketRead

MAX_MERGE_SOURCES = 50


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

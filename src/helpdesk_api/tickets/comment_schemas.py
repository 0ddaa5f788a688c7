from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StrictInt, model_validator

from helpdesk_api.attachments.schemas import AttachmentRead
from helpdesk_api.core.html import within_tag_limit
from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel
from helpdesk_api.core.text import Lines

Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
CommentText = Annotated[str, Field(min_length=1, max_length=65_536), Lines]


class CommentCreate(StrictModel):
    body: CommentText | None = None
    html_body: (
        Annotated[
            str, Field(min_length=1, max_length=262_144), Lines, AfterValidator(within_tag_limit)
        ]
        | None
    ) = None
    public: StrictBool | None = Field(
        default=None,
        description="Public reply (visible to the customer) or private note. Defaults to "
        "true, except for light agents, whose comments are always private notes.",
    )
    attachment_ids: Annotated[list[Id], Field(max_length=20)] = []
    propagate: StrictBool = Field(
        default=False,
        description="On a public reply to a `problem` ticket: copy the reply to every linked "
        "incident (audited `via: problem`).",
    )
    author_id: Id | None = Field(
        default=None,
        description="Write the comment on behalf of this customer: the ticket's requester, or "
        "a customer copied on it. Needs a relay's token (`acts_for_requesters`); the comment is "
        "then the customer's public message (it reopens a waiting ticket and counts as the "
        "customer's for SLAs). Accepted on ticket creation and on `POST …/comments`.",
    )

    @model_validator(mode="after")
    def _has_text(self) -> "CommentCreate":
        if self.body is None and self.html_body is None:
            raise ValueError("a comment needs a body or an html_body")
        return self


class CommentRead(BaseModel):
    id: int
    ticket_id: int
    author_id: int | None = Field(description="None for a system note, written by the service.")
    body: str
    html_body: str | None
    public: bool
    via: str
    created_at: datetime
    attachments: list[AttachmentRead]
    source: dict[str, Any] | None = Field(
        default=None,
        description="Staff only: where the comment came from. For an e-mail: its message_id, "
        "from, to, cc, subject, and thread_match (which header or token joined it to this "
        "ticket: in-reply-to, references, message-id-token, subject-token; null for a new "
        "ticket).",
    )


class CommentPage(Page[CommentRead]):
    pass

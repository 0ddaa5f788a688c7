from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, EmailStr, Field, StrictBool, StringConstraints

from helpdesk_api.core.schemas import StrictModel
from helpdesk_api.core.text import Lines, OneLine
from helpdesk_api.models import Channel, Priority, StatusCategory, TicketType

MAX_TICKETS = 100
MAX_COMMENTS = 1000
ExternalId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), OneLine
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _optional(description: str) -> Any:
    return Field(default=None, description=description, json_schema_extra=_drop_default)


class ImportPerson(StrictModel):
    """Found by `external_id` (a user's), else by `email` (created as a customer when
    unknown, with this `external_id`). At least one of the two."""

    email: EmailStr = _optional("The person's e-mail address.")
    name: Name = _optional("Used only when the person is created; default: the address's name.")
    external_id: ExternalId = _optional(
        "The person's id in the other system (users' `external_id`)."
    )


class ImportComment(StrictModel):
    author: ImportPerson
    body: Annotated[str, StringConstraints(min_length=1, max_length=65_536), Lines]
    public: StrictBool = Field(description="A public reply, or a private note staff only see.")
    created_at: AwareDatetime = Field(description="When it was written; not in the future.")


class ImportTicket(StrictModel):
    external_id: ExternalId = Field(
        description="The ticket's id in the other system: importing it again changes nothing."
    )
    subject: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), OneLine
    ]
    requester: ImportPerson
    created_at: AwareDatetime = Field(
        description="When it was opened; not in the future, not after its first comment."
    )
    status: StatusCategory = _optional(
        "The status category; the ticket takes its default status. Default: `closed`."
    )
    priority: Priority = _optional("Default: `normal`.")
    type: TicketType = _optional("Default: none.")
    channel: Channel = _optional("How it reached the other help desk. Default: `api`.")
    tags: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=100)] = _optional(
        "Default: none."
    )
    comments: Annotated[list[ImportComment], Field(min_length=1, max_length=MAX_COMMENTS)] = Field(
        description="The conversation, the request first; sorted by `created_at` on import."
    )


class ImportRequest(StrictModel):
    tickets: Annotated[list[ImportTicket], Field(min_length=1, max_length=MAX_TICKETS)]


class ImportedTicket(BaseModel):
    external_id: str
    ticket_id: int
    result: Literal["created", "existing"] = Field(
        description="`existing`: a ticket with this external id was already there; it was "
        "left as it is."
    )
    created_at: datetime


class ImportResult(BaseModel):
    data: list[ImportedTicket]

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictInt, model_validator

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.params import Timestamp
from helpdesk_api.core.schemas import Presented, StrictModel, omittable, view_field
from helpdesk_api.core.skills import SkillList
from helpdesk_api.core.text import OneLine
from helpdesk_api.models import (
    CcKind,
    Channel,
    Level,
    Priority,
    SatisfactionScore,
    StatusCategory,
    TicketType,
)
from helpdesk_api.tickets.comment_schemas import CommentCreate
from helpdesk_api.tickets.include_schemas import (
    Included,
    IncludedCustomerUser,
    IncludedGroup,
    IncludedOrganization,
    IncludedUser,
    included_field,
)

Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
Subject = Annotated[str, Field(min_length=1, max_length=500), OneLine]
# Checked again after normalisation (at most 100 characters then); this bounds raw input.
Tag = Annotated[str, Field(min_length=1, max_length=200)]
Tags = Annotated[list[Tag], Field(max_length=100)]
ExternalId = Annotated[str, Field(min_length=1, max_length=255), OneLine]
REQUIRED_SKILLS = (
    "Staff-only: skills an agent needs to be routed this ticket (every one of them), such as "
    "`product:acme-router` or `tier:2`; set by staff or a trigger. Never shown to customers."
)
PRODUCT_ID = (
    "Staff-only: the catalogue product the ticket is about. Null on a change clears it (and "
    "the asset). When a new ticket names neither product nor asset, intake matches the "
    "requester's (`via: auto_match` in the audits)."
)
CUSTOM_FIELDS = (
    "Values of the ticket fields (`/v1/ticket-fields`) by key; on a change only the keys sent "
    "change, and null clears one. A value that does not fit its field's type is a 422 whose "
    "`errors[].loc` ends at the key. Customers may set only fields that are not agent-only."
)
CUSTOM_FIELDS_READ = (
    "Values of the ticket fields by key (a retired field's value stays). Customers see only "
    "fields that are not agent-only."
)
FieldValues = Annotated[
    dict[Annotated[str, Field(max_length=64)], Any],
    Field(max_length=200, description=CUSTOM_FIELDS),
]
ASSET_ID = (
    "Staff-only: the requester's asset (`/v1/users/{id}/assets`) the ticket is about; it "
    "sets the product to the asset's. Another customer's asset is a 422."
)


class RequesterRef(StrictModel):
    """Find the customer by e-mail identity, or create them."""

    email: EmailStr
    name: Annotated[str, Field(min_length=1, max_length=200), OneLine] | None = None


class TicketCreate(StrictModel):
    subject: Subject
    comment: CommentCreate
    requester_id: Id | None = None
    requester: RequesterRef | None = None
    assignee_id: Id | None = None
    group_id: Id | None = None
    status_id: Id | None = None
    priority: Priority | None = None
    impact: Level | None = None
    urgency: Level | None = None
    type: TicketType | None = None
    due_at: Timestamp | None = None
    channel: Channel = Channel.api
    tags: Tags = []
    external_id: ExternalId | None = None
    required_skills: SkillList = Field(default=[], description=REQUIRED_SKILLS)
    product_id: Id | None = Field(default=None, description=PRODUCT_ID)
    asset_id: Id | None = Field(default=None, description=ASSET_ID)
    custom_fields: FieldValues = {}

    @model_validator(mode="after")
    def _one_requester(self) -> "TicketCreate":
        if self.requester_id is not None and self.requester is not None:
            raise ValueError("give requester_id or requester, not both")
        return self


class TicketUpdate(StrictModel):
    subject: Subject = omittable()
    requester_id: Id = omittable()
    assignee_id: Id | Literal["me"] | None = Field(
        default=None, description='An agent\'s id, "me" to self-assign, or null to unassign.'
    )
    group_id: Id | None = None
    status_id: Id = omittable()
    priority: Priority = omittable()
    impact: Level | None = None
    urgency: Level | None = None
    type: TicketType | None = None
    due_at: Timestamp | None = None
    tags: Tags = omittable()
    add_tags: Tags = omittable()
    remove_tags: Tags = omittable()
    external_id: ExternalId | None = None
    required_skills: SkillList = omittable()
    product_id: Id | None = Field(default=None, description=PRODUCT_ID)
    asset_id: Id | None = Field(default=None, description=ASSET_ID)
    custom_fields: FieldValues = omittable()
    comment: CommentCreate = omittable()


class BulkTicketUpdate(StrictModel):
    ids: Annotated[list[Id], Field(min_length=1, max_length=100)]
    changes: TicketUpdate

    @model_validator(mode="after")
    def _distinct(self) -> "BulkTicketUpdate":
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("ids must not repeat")
        if "comment" in self.changes.model_fields_set:
            raise ValueError("a bulk update cannot add a comment; post it to each ticket")
        return self


class StatusRef(BaseModel):
    id: int
    category: StatusCategory
    label: str


class TicketRead(Presented):
    """A ticket as staff see it."""

    id: int
    subject: str
    requester_id: int
    submitter_id: int
    assignee_id: int | None
    group_id: int | None
    organization_id: int | None
    status: StatusRef
    priority: Priority
    impact: Level | None
    urgency: Level | None
    type: TicketType | None
    due_at: datetime | None
    channel: Channel
    tags: list[str]
    required_skills: list[str] = Field(description=REQUIRED_SKILLS)
    external_id: str | None
    comment_count: int
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    solved_at: datetime | None
    first_agent_reply_at: datetime | None
    merged_into_id: int | None
    product_id: int | None = Field(description=PRODUCT_ID)
    asset_id: int | None = Field(description=ASSET_ID)
    satisfaction_score: SatisfactionScore | None = Field(
        description="The requester's latest satisfaction rating (`/v1/satisfaction-ratings` "
        "has each resolution's); null: never rated."
    )
    expected_first_reply_at: datetime | None = Field(
        default=None, description="When the SLA's first reply is due, while it is awaited."
    )
    custom_fields: dict[str, Any] = Field(description=CUSTOM_FIELDS_READ)
    users: list[IncludedUser] | None = included_field()
    groups: list[IncludedGroup] | None = included_field()
    organizations: list[IncludedOrganization] | None = included_field()
    view: Literal["staff"] = view_field("staff")


class CustomerTicketRead(Presented):
    """A ticket as its customers see it: no internal fields."""

    id: int
    subject: str
    requester_id: int
    organization_id: int | None
    status: StatusRef
    type: TicketType | None
    channel: Channel
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    merged_into_id: int | None
    expected_first_reply_at: datetime | None = Field(
        default=None, description="When to expect a first answer from the support team."
    )
    custom_fields: dict[str, Any] = Field(description=CUSTOM_FIELDS_READ)
    users: list[IncludedCustomerUser] | None = included_field()
    groups: list[IncludedGroup] | None = included_field()
    organizations: list[IncludedOrganization] | None = included_field()
    view: Literal["customer"] = view_field("customer")


# What a route that both staff and customers reach returns: `view` tells the shapes apart.
TicketView = Annotated[TicketRead | CustomerTicketRead, Field(discriminator="view")]


class TicketPage(Page[TicketView], Included):
    pass


class TicketCount(BaseModel):
    count: int = Field(description="Matching tickets the caller may see, at most the cap.")
    capped: bool = Field(description="True when there are more than `count` (shown `10000+`).")


class TicketList(BaseModel):
    data: list[TicketRead]


class AuditChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    field: str
    from_: Any = Field(alias="from")
    to: Any


class AuditRead(BaseModel):
    id: int
    ticket_id: int
    actor_id: int | None
    via: str
    changes: list[AuditChange]
    comment_id: int | None
    created_at: datetime


class AuditPage(Page[AuditRead]):
    pass


class TagRead(BaseModel):
    name: str
    ticket_count: int


class TagPage(Page[TagRead]):
    pass


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

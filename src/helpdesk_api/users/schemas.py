from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.params import Timestamp
from helpdesk_api.core.schemas import Presented, StrictModel, omittable, view_field
from helpdesk_api.core.skills import SkillList
from helpdesk_api.core.text import LinesOrEmpty, OneLine
from helpdesk_api.fields.schemas import FieldValues
from helpdesk_api.models import Availability, IdentityKind, Role, TicketAccess

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]
Password = Annotated[str, Field(min_length=8, max_length=256)]
TimeZoneName = Annotated[str, Field(min_length=1, max_length=64, examples=["Europe/Rome"])]
Locale = Annotated[str, Field(min_length=2, max_length=35, examples=["it-IT"])]
OrganizationRef = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
# Normalised by core.tags.normalize_tags in the service (lower case, '#' and spaces handled).
TagList = Annotated[
    list[Annotated[str, Field(max_length=200)]],
    Field(max_length=100, examples=[["vip", "key_account"]]),
]
ExternalId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), OneLine
]
EXTERNAL_ID = "The user's id in another system (a CRM, a shop), unique. Staff-only."
SKILLS = (
    "Agents and admins only: what they can handle, for routing (a word or kind:value, such "
    "as `lang:it`, `product:acme-router`, `tier:2`; stored lower case, sorted, without "
    "repeats). Staff-only."
)
AVAILABILITY = (
    "Agents and admins only: `online` takes routed work, `away` and `offline` do not. Set by "
    "the agent (`PUT /v1/me/availability`) or an admin. Staff-only."
)


class UserMergeRequest(StrictModel):
    source_id: Annotated[StrictInt, Field(ge=1, le=2**63 - 1)] = Field(
        description="The customer folded into this one (the path's user), who is then deactivated."
    )


class IdentityCreate(StrictModel):
    kind: IdentityKind
    value: Annotated[str, Field(min_length=1, max_length=320)]


class IdentityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: IdentityKind
    value: str
    is_primary: bool
    verified: bool
    created_at: datetime


class UserCreate(StrictModel):
    name: Name
    email: EmailStr | None = None
    role: Role = Role.customer
    password: Password | None = None
    ticket_access: TicketAccess = TicketAccess.all
    locale: Locale | None = None
    time_zone: TimeZoneName | None = None
    notes: Annotated[str, Field(max_length=10_000), LinesOrEmpty] | None = None
    identities: Annotated[list[IdentityCreate], Field(max_length=20)] = []
    organization_id: OrganizationRef | None = Field(
        default=None,
        description="Customers only. Left out: a customer whose e-mail domain is listed on an "
        "organisation joins it; null: no organisation.",
    )
    tags: TagList = []
    skills: SkillList = Field(default=[], description=SKILLS)
    external_id: ExternalId | None = Field(default=None, description=EXTERNAL_ID)
    custom_fields: FieldValues = {}


class NotificationSettings(StrictModel):
    """Staff's e-mail notices; null (or left out) means the default."""

    ticket_assigned: StrictBool | None = Field(
        default=None, description="A ticket was assigned to me (default: on)."
    )
    ticket_created: StrictBool | None = Field(
        default=None, description="A new ticket in one of my groups (default: off)."
    )


class UserUpdate(StrictModel):
    name: Name = omittable()
    email: EmailStr = omittable()
    role: Role = omittable()
    is_active: StrictBool = omittable()
    password: Password = omittable()
    ticket_access: TicketAccess = omittable()
    locale: Locale | None = None
    time_zone: TimeZoneName | None = None
    notes: Annotated[str, Field(max_length=10_000), LinesOrEmpty] | None = None
    organization_id: OrganizationRef | None = Field(
        default=None, description="Customers only; null removes the user from it."
    )
    tags: TagList = omittable()
    notification_settings: NotificationSettings = omittable()
    skills: SkillList = omittable()
    availability: Availability = omittable()
    external_id: ExternalId | None = Field(default=None, description=EXTERNAL_ID)
    custom_fields: FieldValues = omittable()


class UserRead(Presented):
    """A user as staff see it."""

    id: int
    name: str
    email: str | None
    role: Role
    is_active: bool
    ticket_access: TicketAccess
    locale: str | None
    time_zone: str | None
    notes: str | None
    organization_id: int | None
    tags: list[str] = Field(description="Staff-only segments such as `vip`.")
    notification_settings: dict[str, bool] = Field(
        description="Staff's e-mail notice choices (`ticket_assigned`, `ticket_created`); "
        "a missing key means the default."
    )
    skills: list[str] = Field(description=SKILLS)
    availability: Availability = Field(description=AVAILABILITY)
    availability_changed_at: datetime | None
    identities: list[IdentityRead]
    external_id: str | None = Field(description=EXTERNAL_ID)
    custom_fields: dict[str, Any] = Field(
        description="Values of the user fields (`/v1/user-fields`) by key. Staff-only."
    )
    created_at: datetime
    updated_at: datetime
    view: Literal["staff"] = view_field("staff")


class AvailabilityUpdate(StrictModel):
    availability: Availability = Field(description=AVAILABILITY)


class AvailabilityRead(BaseModel):
    availability: Availability = Field(description=AVAILABILITY)
    availability_changed_at: datetime | None = Field(
        description="When it last changed; null if it never has."
    )


class MeRead(Presented):
    """The caller's own profile; carries no staff-only fields."""

    id: int
    name: str
    email: str | None
    role: Role
    locale: str | None
    time_zone: str | None
    identities: list[IdentityRead]
    organization_id: int | None = None
    view: Literal["self"] = view_field("self")


# `GET /v1/users/{id}`: staff get the whole profile, a customer their own; `view` tells which.
UserView = Annotated[UserRead | MeRead, Field(discriminator="view")]


TokenName = Annotated[str, Field(min_length=1, max_length=100)]
TokenExpiry = Annotated[
    Timestamp | None,
    Field(
        description="When the token stops working: in the future, at most "
        "`HELPDESK_TOKEN_MAX_LIFETIME_DAYS` (365) days ahead; none means no expiry. A token "
        "created with an expiring token never outlives it: a later or missing value is "
        "capped at the calling token's expiry.",
    ),
]


ACTS_FOR_REQUESTERS = (
    "A relay's token (a mail or chat gateway): it may write comments on behalf of a ticket's "
    "requester or a customer copied on it (`author_id`), which then count as the customer's "
    "messages. Only admins grant it, and only to a staff user's token."
)


class TokenCreate(StrictModel):
    name: TokenName = "api"
    expires_at: TokenExpiry = None
    acts_for_requesters: StrictBool = Field(default=False, description=ACTS_FOR_REQUESTERS)


class TokenCreated(BaseModel):
    id: int
    name: str
    token: str = Field(description="Shown once; only a hash is stored.")
    prefix: str | None = Field(description="The token's first characters, as listings show it.")
    created_at: datetime
    expires_at: datetime | None
    acts_for_requesters: bool = Field(description=ACTS_FOR_REQUESTERS)


class TokenRead(BaseModel):
    """A token as listings show it: never the secret, never its hash."""

    id: int
    name: str
    prefix: str | None = Field(
        description="The first characters of the token (`hd_` and 7 more), to tell tokens "
        "apart; null for tokens issued before prefixes were kept and for a chosen bootstrap "
        "token.",
        examples=["hd_Xy3kP9a"],
    )
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="Updated at most once a minute, so it may lag by that much."
    )
    expires_at: datetime | None
    acts_for_requesters: bool = Field(description=ACTS_FOR_REQUESTERS)


class TokenPage(Page[TokenRead]):
    pass


class UserPage(Page[UserRead]):
    pass


class UserUpsert(StrictModel):
    """A customer as another system (a CRM, a shop) knows them: found by `external_id`,
    else by `email`, and updated; created when neither finds one (then `name` is needed).
    Fields left out stay as they are; identities are added, never taken from another user."""

    external_id: ExternalId | None = Field(default=None, description=EXTERNAL_ID)
    email: EmailStr | None = None
    name: Name | None = None
    identities: Annotated[list[IdentityCreate], Field(max_length=20)] = []
    locale: Locale | None = None
    time_zone: TimeZoneName | None = None
    notes: Annotated[str, Field(max_length=10_000), LinesOrEmpty] | None = None
    organization_id: OrganizationRef | None = None
    tags: TagList = omittable()

    @model_validator(mode="after")
    def _findable(self) -> "UserUpsert":
        if self.external_id is None and self.email is None:
            raise ValueError("give external_id or email: what finds the customer")
        return self

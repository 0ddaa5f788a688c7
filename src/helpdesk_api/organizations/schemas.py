import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StrictInt, StringConstraints

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import LinesOrEmpty, OneLine
from helpdesk_api.fields.schemas import FieldValues

# LDH labels, at least two, and a top-level label that is not all digits: "example.com",
# "mail.example.co.uk", "xn--bcher-kva.de". Internationalised names are given in punycode.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+(?=[a-z0-9-]*[a-z])(?:{_LABEL})$")


def _check_domain(value: str) -> str:
    if not _DOMAIN.match(value):
        raise ValueError(
            f"{value!r} is not an e-mail domain like example.com "
            "(no '@', no scheme; internationalised names in punycode)"
        )
    return value


Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]
Domain = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=253),
    AfterValidator(_check_domain),
]
DomainList = Annotated[list[Domain], Field(max_length=100, examples=[["example.com"]])]
# Normalised by core.tags.normalize_tags in the service.
TagList = Annotated[
    list[Annotated[str, Field(max_length=200)]],
    Field(max_length=100, examples=[["enterprise"]]),
]
Notes = Annotated[str, Field(max_length=10_000), LinesOrEmpty]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
UserRef = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
ACCOUNT_MANAGER = (
    "An active agent or admin who looks after this organisation: routing gives its tickets "
    "to them, in groups they belong to, when they are eligible (available, below capacity, "
    "skilled). Staff-only; always null for customers."
)


class OrganizationCreate(StrictModel):
    name: Name
    shared_tickets: StrictBool = False
    domains: DomainList = []
    tags: TagList = []
    notes: Notes | None = None
    external_id: ExternalId | None = None
    account_manager_id: UserRef | None = Field(default=None, description=ACCOUNT_MANAGER)
    custom_fields: FieldValues = {}


class OrganizationUpdate(StrictModel):
    name: Name = omittable()
    shared_tickets: StrictBool = omittable()
    domains: DomainList = omittable()
    tags: TagList = omittable()
    notes: Notes | None = None
    external_id: ExternalId | None = None
    account_manager_id: UserRef | None = Field(default=None, description=ACCOUNT_MANAGER)
    custom_fields: FieldValues = omittable()


class OrganizationRead(BaseModel):
    id: int
    name: str
    shared_tickets: bool = Field(description="Members see each other's tickets.")
    domains: list[str] = Field(
        description="E-mail domains whose new customers join this organisation."
    )
    tags: list[str]
    notes: str | None = Field(description="Staff-only; always null for customers.")
    external_id: str | None
    account_manager_id: int | None = Field(description=ACCOUNT_MANAGER)
    custom_fields: dict[str, Any] = Field(
        description="Values of the organisation fields (`/v1/organization-fields`) by key; "
        "customers see only fields that are not agent-only."
    )
    created_at: datetime
    updated_at: datetime


class OrganizationPage(Page[OrganizationRead]):
    pass

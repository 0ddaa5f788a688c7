import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StringConstraints

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import LinesOrEmpty, OneLine

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


class OrganizationCreate(StrictModel):
    name: Name
    shared_tickets: StrictBool = False
    domains: DomainList = []
    tags: TagList = []
    notes: Notes | None = None
    external_id: ExternalId | None = None


class OrganizationUpdate(StrictModel):
    name: Name = omittable()
    shared_tickets: StrictBool = omittable()
    domains: DomainList = omittable()
    tags: TagList = omittable()
    notes: Notes | None = None
    external_id: ExternalId | None = None


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
    created_at: datetime
    updated_at: datetime


class OrganizationPage(Page[OrganizationRead]):
    pass

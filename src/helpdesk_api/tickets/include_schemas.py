"""What ``include=users,groups,organizations`` adds beside tickets: short records of the
people, groups and organisations the tickets name, each in the shape the caller may see."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from helpdesk_api.core.schemas import Presented, view_field
from helpdesk_api.models import Role

INCLUDE_DESCRIPTION = (
    "Comma-separated, any of `users`, `groups`, `organizations`: the response also carries "
    "the users (requester, submitter, assignee), groups and organisations its tickets name, "
    "each once, as the caller may see them (customers: requesters' names only, no groups)."
)


class IncludedUser(Presented):
    """A user named by a ticket, as staff see it."""

    id: int
    name: str
    email: str | None
    role: Role
    is_active: bool
    organization_id: int | None
    view: Literal["staff"] = view_field("staff")


class IncludedCustomerUser(Presented):
    """A user named by a ticket, as a customer sees it: the name only."""

    id: int
    name: str
    view: Literal["customer"] = view_field("customer")


IncludedUserView = Annotated[IncludedUser | IncludedCustomerUser, Field(discriminator="view")]


class IncludedGroup(BaseModel):
    id: int
    name: str
    is_active: bool


class IncludedOrganization(BaseModel):
    id: int
    name: str


def _left_out(value: object) -> bool:
    return value is None


# Fields a response has only when the request asked for them (`include`): without it, the
# JSON is what it was before includes existed.
INCLUDE_FIELDS = ("users", "groups", "organizations")


def included_field() -> Any:
    return Field(default=None, description=INCLUDE_DESCRIPTION, exclude_if=_left_out)


class Included(BaseModel):
    """A page's includes: the users in the caller's shape."""

    users: list[IncludedUserView] | None = included_field()
    groups: list[IncludedGroup] | None = included_field()
    organizations: list[IncludedOrganization] | None = included_field()

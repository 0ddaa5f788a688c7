"""Views as the API reads and writes them, and their counts."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints, field_validator

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import LinesOrEmpty, OneLine
from helpdesk_api.models import ViewVisibility
from helpdesk_api.tickets import INCLUDE_FIELDS, TicketRead, TicketSort
from helpdesk_api.views.conditions import ViewConditions

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(examples=["Unassigned in my groups"]),
    OneLine,
]
Description = Annotated[str, Field(max_length=2_000), LinesOrEmpty]
GroupId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
# What a UI may show as a column: a ticket's fields as staff read them.
COLUMNS = tuple(f for f in TicketRead.model_fields if f not in INCLUDE_FIELDS)
DEFAULT_COLUMNS = ["id", "subject", "requester_id", "status", "priority", "assignee_id",
                   "updated_at"]  # fmt: skip
Columns = Annotated[
    list[str],
    Field(
        min_length=1,
        max_length=len(COLUMNS),
        description="Ticket fields a UI shows, in order: any field of a ticket as staff read "
        "it (`id`, `subject`, `status`, `priority`, `assignee_id`, `updated_at`, …).",
    ),
]


def _check_columns(columns: list[str]) -> list[str]:
    for index, name in enumerate(columns):
        if name not in COLUMNS:
            raise ValueError(f"item {index}: {name!r} is not a ticket field")
    return list(dict.fromkeys(columns))


class ViewCreate(StrictModel):
    title: Title
    description: Description | None = None
    active: StrictBool = Field(default=True, description="Inactive views list nothing.")
    visibility: ViewVisibility = Field(
        description="`personal`: the creator's only (any agent may create one); `group`: "
        "the members of `group_id`; `shared`: every agent. Only admins create group and "
        "shared views."
    )
    group_id: GroupId | None = Field(
        default=None, description="Required for `group` visibility, refused otherwise."
    )
    conditions: ViewConditions = Field(
        description="`all` must hold and, when given, one of `any`; no conditions lists "
        "every ticket the caller may see."
    )
    sort: TicketSort = TicketSort.updated_at_desc
    columns: Columns = Field(default_factory=lambda: list(DEFAULT_COLUMNS))
    position: Annotated[StrictInt, Field(ge=0, le=1_000_000)] = 0

    _columns = field_validator("columns")(_check_columns)


class ViewUpdate(StrictModel):
    """Send only what changes; `conditions` and `columns` are replaced whole."""

    title: Title = omittable()
    description: Description | None = None
    active: StrictBool = omittable()
    visibility: ViewVisibility = omittable()
    group_id: GroupId | None = None
    conditions: ViewConditions = omittable()
    sort: TicketSort = omittable()
    columns: Columns = omittable()
    position: Annotated[StrictInt, Field(ge=0, le=1_000_000)] = omittable()

    _columns = field_validator("columns")(_check_columns)


class ViewRead(BaseModel):
    id: int
    title: str
    description: str | None
    active: bool
    visibility: ViewVisibility
    group_id: int | None
    owner_id: int | None = Field(description="The agent a personal view belongs to.")
    conditions: ViewConditions
    sort: TicketSort
    columns: list[str]
    position: int
    created_at: datetime
    updated_at: datetime


class ViewPage(Page[ViewRead]):
    pass


class ViewCount(BaseModel):
    view_id: int
    count: int = Field(description="Tickets in the view for the caller, at most `cap`.")
    capped: bool = Field(description="True when there are more than `count` (shown `10000+`).")
    counted_at: datetime = Field(
        description="When it was counted: counts are kept for a few seconds per view and "
        "caller (HELPDESK_VIEW_COUNT_TTL_SECONDS), so polling badges costs no scan."
    )


class ViewCounts(BaseModel):
    data: list[ViewCount]

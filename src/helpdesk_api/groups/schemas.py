from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import LinesOrEmpty, OneLine
from helpdesk_api.models import RoutingMode

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]
Description = Annotated[str, Field(max_length=10_000), LinesOrEmpty]
Capacity = Annotated[StrictInt, Field(ge=1, le=10_000)]

MODE = (
    "`manual`: routing assigns nobody, agents take tickets from the queue; `round_robin`: "
    "the eligible member routed to least recently; `least_busy`: the eligible member with "
    "the fewest open tickets (ties: least recently routed). Eligible: an active agent or "
    "admin of the group with every skill the ticket requires, online (when "
    "`respect_availability`) and below `max_open_per_agent`."
)
RESPECT_AVAILABILITY = "Route only to members who are `online`; false: whatever their availability."
MAX_OPEN = (
    "At most this many open tickets (status category not solved or closed) per agent, "
    "counted across all groups; routing skips an agent at the limit. Null: no limit."
)
MATCH_LANGUAGE = (
    "Prefer members with the skill `lang:<language>` of the requester's locale (or the "
    "language detected in the ticket); when no eligible member speaks it, any eligible member."
)


class RoutingSettings(StrictModel):
    """How new and moved-in unassigned tickets of the group find an agent."""

    mode: RoutingMode = Field(default=RoutingMode.manual, description=MODE)
    respect_availability: StrictBool = Field(default=True, description=RESPECT_AVAILABILITY)
    max_open_per_agent: Capacity | None = Field(default=None, description=MAX_OPEN)
    match_language: StrictBool = Field(default=False, description=MATCH_LANGUAGE)


class RoutingUpdate(StrictModel):
    """Only the fields sent change."""

    mode: RoutingMode = omittable()
    respect_availability: StrictBool = omittable()
    max_open_per_agent: Capacity | None = Field(default=None, description=MAX_OPEN)
    match_language: StrictBool = omittable()


class RoutingRead(BaseModel):
    mode: RoutingMode = Field(description=MODE)
    respect_availability: bool = Field(description=RESPECT_AVAILABILITY)
    max_open_per_agent: int | None = Field(description=MAX_OPEN)
    match_language: bool = Field(description=MATCH_LANGUAGE)


class GroupCreate(StrictModel):
    name: Name
    description: Description | None = None
    routing: RoutingSettings = Field(default_factory=RoutingSettings)


class GroupUpdate(StrictModel):
    name: Name = omittable()
    description: Description | None = None
    is_active: StrictBool = omittable()
    routing: RoutingUpdate = omittable()


class GroupRead(BaseModel):
    id: int
    name: str
    description: str | None
    is_active: bool = Field(description="False once deleted: tickets keep naming the group.")
    routing: RoutingRead
    created_at: datetime
    updated_at: datetime


class GroupPage(Page[GroupRead]):
    pass

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import LinesOrEmpty, OneLine
from helpdesk_api.models import Channel, Priority, SlaMetric, SlaMetricStatus, TicketType

Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]
Description = Annotated[str, Field(max_length=10_000), LinesOrEmpty]
TimeZone = Annotated[str, Field(min_length=1, max_length=64, examples=["Europe/Rome"])]
# A target of up to a year of clock time; longer ones are no service level.
Minutes = Annotated[StrictInt, Field(ge=1, le=525_600)]
Position = Annotated[StrictInt, Field(ge=0, le=1_000_000)]
PauseCategory = Literal["pending", "on_hold"]

_WALL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
WallTime = Annotated[
    str,
    Field(pattern=_WALL_TIME.pattern, examples=["09:00"], description="Local time, HH:MM"),
]


class OpeningHours(StrictModel):
    weekday: Annotated[StrictInt, Field(ge=1, le=7, description="ISO weekday, Monday = 1")]
    start: WallTime
    end: Annotated[
        str,
        Field(
            pattern=_WALL_TIME.pattern,
            examples=["17:00"],
            description='Local time, HH:MM; "24:00" (or "00:00") is midnight at the day\'s end.',
        ),
    ]

    @field_validator("end")
    @classmethod
    def _midnight(cls, value: str) -> str:
        return "24:00" if value == "00:00" else value

    @model_validator(mode="after")
    def _ordered(self) -> "OpeningHours":
        if self.start == "24:00":
            raise ValueError("start must be before 24:00")
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class Holiday(StrictModel):
    date: date
    name: Annotated[str, Field(min_length=1, max_length=200), OneLine] | None = None


class HolidaysFrom(StrictModel):
    """Public holidays from the `holidays` package, added to the calendar's own."""

    country: Annotated[str, Field(min_length=2, max_length=3, examples=["IT"])]
    subdivision: Annotated[str, Field(min_length=1, max_length=10)] | None = None
    years: Annotated[list[Annotated[StrictInt, Field(ge=1970, le=2100)]], Field(min_length=1)]

    @field_validator("years")
    @classmethod
    def _few_years(cls, years: list[int]) -> list[int]:
        if len(set(years)) > 20:
            raise ValueError("at most 20 distinct years")
        return years


Holidays = Annotated[list[Holiday], Field(max_length=1000)]
Hours = Annotated[list[OpeningHours], Field(max_length=100)]


class CalendarCreate(StrictModel):
    name: Name
    time_zone: TimeZone = "UTC"
    always_open: StrictBool = Field(
        default=False, description="Open around the clock: no hours, no holidays."
    )
    hours: Hours = []
    holidays: Holidays = []
    holidays_from: HolidaysFrom | None = None


class CalendarUpdate(StrictModel):
    name: Name = omittable()
    time_zone: TimeZone = omittable()
    always_open: StrictBool = omittable()
    hours: Hours = omittable()
    holidays: Holidays = omittable()
    holidays_from: HolidaysFrom = omittable()


class CalendarRead(BaseModel):
    id: int
    name: str
    time_zone: str
    always_open: bool
    hours: list[OpeningHours]
    holidays: list[Holiday]
    created_at: datetime
    updated_at: datetime


class CalendarPage(Page[CalendarRead]):
    pass


Ids = Annotated[list[Id], Field(max_length=100)]
Tag = Annotated[str, Field(min_length=1, max_length=200)]


class Conditions(StrictModel):
    """Every non-empty list must match (any of its values); an empty list matches anything.
    `tags` match the ticket's tags, its requester's and its organisation's (segments)."""

    priority: Annotated[list[Priority], Field(max_length=4)] = []
    group_id: Ids = []
    organization_id: Ids = []
    tags: Annotated[list[Tag], Field(max_length=100)] = []
    channel: Annotated[list[Channel], Field(max_length=20)] = []
    type: Annotated[list[TicketType], Field(max_length=4)] = []


class TargetIn(StrictModel):
    priority: Priority
    metric: SlaMetric
    minutes: Minutes
    business_hours: StrictBool = True
    pause_on: Annotated[list[PauseCategory], Field(max_length=2)] = ["pending", "on_hold"]


Targets = Annotated[list[TargetIn], Field(max_length=16)]


class PolicyCreate(StrictModel):
    name: Name
    description: Description | None = None
    position: Position = 0
    calendar_id: Id
    conditions: Conditions = Conditions()
    targets: Targets = []
    is_active: StrictBool = True


class PolicyUpdate(StrictModel):
    name: Name = omittable()
    description: Description | None = None
    position: Position = omittable()
    calendar_id: Id = omittable()
    conditions: Conditions = omittable()
    targets: Targets = omittable()
    is_active: StrictBool = omittable()


class TargetRead(BaseModel):
    priority: Priority
    metric: SlaMetric
    minutes: int
    business_hours: bool
    pause_on: list[str]


class PolicyRead(BaseModel):
    id: int
    name: str
    description: str | None
    position: int
    calendar_id: int
    conditions: Conditions
    targets: list[TargetRead]
    is_active: bool = Field(description="False once deleted: it no longer applies to tickets.")
    created_at: datetime
    updated_at: datetime


class PolicyPage(Page[PolicyRead]):
    pass


class MatchedCondition(BaseModel):
    field: str
    values: list[str | int] = Field(description="What the policy asks for.")
    matched: list[str | int] = Field(description="The ticket's values that satisfied it.")


class CalendarRef(BaseModel):
    id: int
    name: str
    time_zone: str
    always_open: bool


class AppliedPolicy(BaseModel):
    id: int
    name: str
    position: int
    is_active: bool
    matched_conditions: list[MatchedCondition] = Field(
        description="The conditions that made it apply; none means it applies to every ticket."
    )
    applied_at: datetime
    calendar: CalendarRef


class MetricRead(BaseModel):
    metric: SlaMetric
    cycle: int = Field(description="1 for the first; next_reply/periodic_update count on.")
    status: SlaMetricStatus
    policy_id: int
    target_minutes: int
    business_hours: bool = Field(
        description="Minutes counted on the calendar, or around the clock."
    )
    pause_on: list[str]
    started_at: datetime
    breach_at: datetime | None = Field(description="Null while paused.")
    warning_at: datetime | None
    paused_at: datetime | None
    paused_minutes: float = Field(
        description="Clock minutes not counted while the ticket waited (business minutes for "
        "business-hours targets); breach_at is that much later."
    )
    achieved_at: datetime | None
    breached_at: datetime | None


class TicketSlaRead(BaseModel):
    ticket_id: int
    policy: AppliedPolicy | None
    metrics: list[MetricRead]

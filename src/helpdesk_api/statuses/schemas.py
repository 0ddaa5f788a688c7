from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StringConstraints

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import Presented, StrictModel, omittable, view_field
from helpdesk_api.core.text import LinesOrEmpty, OneLine
from helpdesk_api.models import Level, Priority, StatusCategory

Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    Field(examples=["Waiting on vendor"]),
    OneLine,
]
Description = Annotated[str, Field(max_length=2_000), LinesOrEmpty]
Position = Annotated[
    StrictInt, Field(ge=0, le=2**31 - 1, description="Lower comes first in lists and pickers.")
]


class StatusCreate(StrictModel):
    category: StatusCategory
    agent_label: Label
    customer_label: Label | None = Field(
        default=None, description="What customers see; defaults to `agent_label`."
    )
    description: Description | None = None
    position: Position | None = Field(
        default=None, description="Defaults to after the last status."
    )
    is_default: StrictBool = Field(
        default=False,
        description="Make this the default of its category; the previous default stops being one.",
    )
    notify_requester: StrictBool = Field(
        default=False,
        description="E-mail the requester when a ticket moves into this status.",
    )


class StatusUpdate(StrictModel):
    """The category is fixed once created: tickets copy it, so changing it would misfile them."""

    agent_label: Label = omittable()
    customer_label: Label = omittable()
    description: Description | None = None
    position: Position = omittable()
    is_active: StrictBool = omittable()
    notify_requester: StrictBool = omittable()
    is_default: Annotated[
        StrictBool,
        Field(description="Only `true`: the default moves by setting it on another status."),
    ] = omittable()


class StatusRead(Presented):
    """A ticket status as staff see it."""

    id: int
    category: StatusCategory
    agent_label: str
    customer_label: str
    description: str | None
    is_default: bool
    is_active: bool
    notify_requester: bool
    position: int
    created_at: datetime
    updated_at: datetime
    view: Literal["staff"] = view_field("staff")


class StatusCustomerRead(Presented):
    """A ticket status as customers see it: never the agent label or the description."""

    id: int
    category: StatusCategory
    label: str = Field(description="The customer-facing label.")
    view: Literal["customer"] = view_field("customer")


# Staff get the first shape, customers the second; `view` tells them apart.
StatusView = Annotated[StatusRead | StatusCustomerRead, Field(discriminator="view")]


class StatusPage(Page[StatusView]):
    pass


class MatrixCell(StrictModel):
    impact: Level
    urgency: Level
    priority: Priority


class PriorityMatrix(StrictModel):
    cells: list[MatrixCell] = Field(
        description="Every (impact, urgency) combination exactly once: 9 cells.",
        max_length=100,
    )

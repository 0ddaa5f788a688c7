from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import LinesOrEmpty, OneLine

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]
Description = Annotated[str, Field(max_length=10_000), LinesOrEmpty]


class GroupCreate(StrictModel):
    name: Name
    description: Description | None = None


class GroupUpdate(StrictModel):
    name: Name = omittable()
    description: Description | None = None
    is_active: StrictBool = omittable()


class GroupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    is_active: bool = Field(description="False once deleted: tickets keep naming the group.")
    created_at: datetime
    updated_at: datetime


class GroupPage(Page[GroupRead]):
    pass

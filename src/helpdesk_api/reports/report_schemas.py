"""A ticket report as clients read it."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ReportRow(BaseModel):
    start: datetime = Field(description="The bucket's start (its local boundary, in UTC).")
    end: datetime = Field(description="The bucket's end; rows count what lies in [from, to).")
    group: str | None = Field(
        description="The dimension's value (ids as strings); null without group_by, or for "
        "tickets without a value (no group, no assignee, …)."
    )
    values: dict[str, int | float | None] = Field(
        description="Each requested metric: counts, rates between 0 and 1, durations in "
        "minutes; null where nothing was measured."
    )


class TicketReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    metrics: list[str]
    group_by: str | None
    interval: str | None
    tz: str
    from_: datetime = Field(alias="from")
    to: datetime
    data: list[ReportRow]

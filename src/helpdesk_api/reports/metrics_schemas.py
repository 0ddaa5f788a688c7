"""A ticket's metrics as staff read them."""

from datetime import datetime

from pydantic import BaseModel, Field


class Duration(BaseModel):
    calendar_minutes: float | None = Field(description="Elapsed minutes; null: not yet.")
    business_minutes: float | None = Field(
        description="Minutes inside the opening hours of the ticket's SLA calendar; null "
        "while no SLA policy applies (or not yet)."
    )


class TicketMetricsRead(BaseModel):
    ticket_id: int
    calendar_id: int | None = Field(description="The SLA calendar business minutes use.")
    first_reply_time: Duration = Field(
        description="Creation to the first public comment by an agent."
    )
    full_resolution_time: Duration = Field(
        description="Creation to the latest solve; null while the ticket is not solved."
    )
    requester_wait_time: Duration = Field(
        description="Time in new, open and on-hold, up to the last status change."
    )
    agent_wait_time: Duration = Field(description="Time in pending, up to the last status change.")
    on_hold_time: Duration = Field(description="Time in on-hold, up to the last status change.")
    replies: int = Field(description="Public comments by agents after creation.")
    replies_at_solve: int | None = Field(
        description="Public agent replies when the ticket was last solved; 1 is a one-touch "
        "(first-contact) resolution."
    )
    one_touch: bool = Field(description="Solved with exactly one public agent reply.")
    reopens: int
    assignee_changes: int
    group_changes: int
    first_assigned_at: datetime | None
    first_reply_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime

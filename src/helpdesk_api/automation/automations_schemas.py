"""Time-based automations as the API reads and writes them."""

from datetime import datetime

from pydantic import BaseModel, Field, StrictBool

from helpdesk_api.automation.actions import Action
from helpdesk_api.automation.schemas import Actions, Description, Position, Title
from helpdesk_api.automation.timing import AutomationConditions
from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable

CONDITIONS = (
    "`{all, any}` as a trigger's; beside its ticket conditions (no `changed*` operators and "
    "nothing only a change has: comment, via, actor, update type, SLA events), time "
    "conditions `{field: hours_since_created | hours_since_updated | "
    "hours_since_status_changed | hours_since_pending | hours_since_on_hold | "
    "hours_since_solved | hours_since_requester_replied | hours_since_agent_replied | "
    "hours_until_sla_due, operator: greater_than | less_than | is, value, business_hours}`. "
    "One `all` time condition must bound the tickets looked at (`hours_since_*` with "
    "`greater_than` or `is`, or `hours_until_sla_due` with `less_than` or `is`)."
)


class AutomationCreate(StrictModel):
    title: Title
    description: Description | None = None
    active: StrictBool = Field(default=True, description="Inactive automations never run.")
    position: Position | None = Field(
        default=None, description="Defaults to after the last automation."
    )
    conditions: AutomationConditions = Field(description=CONDITIONS)
    actions: Actions


class AutomationUpdate(StrictModel):
    """Send only what changes; `conditions` and `actions` are replaced whole, and the rule
    they make is validated again as a whole."""

    title: Title = omittable()
    description: Description | None = None
    active: StrictBool = omittable()
    position: Position = omittable()
    conditions: AutomationConditions = omittable()
    actions: Actions = omittable()


class AutomationRead(BaseModel):
    id: int
    title: str
    description: str | None
    active: bool
    position: int
    conditions: AutomationConditions
    actions: list[Action]
    last_error: str | None = Field(
        description="The last action that could not be applied (a deleted group, an "
        "inactive agent) or the error that stopped the automation on a ticket, with what "
        "was wrong; the automation keeps running on other tickets."
    )
    last_error_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AutomationPage(Page[AutomationRead]):
    pass

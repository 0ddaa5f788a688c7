"""Triggers as the API reads and writes them, and the dry run's question and answer."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints

from helpdesk_api.automation.actions import Action, ChangeKind
from helpdesk_api.automation.conditions import CustomFieldName, RuleConditions
from helpdesk_api.automation.fields import SLA_EVENT_NAMES, Operator, UpdateType
from helpdesk_api.automation.fields import Field as ConditionField
from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import LinesOrEmpty, OneLine
from helpdesk_api.models import Priority, Role, Via
from helpdesk_api.models.ticket import TicketType

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(examples=["Urgent mail from VIPs to tier 2"]),
    OneLine,
]
Description = Annotated[str, Field(max_length=2_000), LinesOrEmpty]
Position = Annotated[
    StrictInt, Field(ge=0, le=2**31 - 1, description="Lower fires first; ties by id.")
]
Actions = Annotated[list[Action], Field(min_length=1, max_length=50)]


class TriggerCreate(StrictModel):
    title: Title
    description: Description | None = None
    active: StrictBool = Field(default=True, description="Inactive triggers never fire.")
    position: Position | None = Field(
        default=None, description="Defaults to after the last trigger."
    )
    conditions: RuleConditions
    actions: Actions


class TriggerUpdate(StrictModel):
    """Send only what changes; `conditions` and `actions` are replaced whole."""

    title: Title = omittable()
    description: Description | None = None
    active: StrictBool = omittable()
    position: Position = omittable()
    conditions: RuleConditions = omittable()
    actions: Actions = omittable()


class TriggerRead(BaseModel):
    id: int
    title: str
    description: str | None
    active: bool
    position: int
    conditions: RuleConditions
    actions: list[Action]
    last_error: str | None = Field(
        description="The last action that could not be applied (a deleted group, an "
        "inactive agent), with what was wrong; the rest of the trigger still ran."
    )
    last_error_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TriggerPage(Page[TriggerRead]):
    pass


class TriggerOrder(StrictModel):
    trigger_ids: list[Annotated[StrictInt, Field(ge=1)]] = Field(
        max_length=10_000,
        description="Every trigger's id, each once, in the order they should fire.",
    )


class CommentInput(StrictModel):
    body: Annotated[str, Field(max_length=65_536)]
    public: StrictBool


class HypotheticalChange(StrictModel):
    """What the dry run pretends happened to the ticket; left out, a plain update with no
    field changed."""

    update_type: UpdateType = Field(
        default=UpdateType.changed, description="`created` pretends the ticket is new."
    )
    via: Via = Field(default=Via.api, description="The path the change came by.")
    actor_role: Role | None = Field(
        default=Role.agent, description="Who made it; null for the service itself."
    )
    comment: CommentInput | None = Field(default=None, description="The change's comment.")
    status_id: Annotated[StrictInt, Field(ge=1)] | None = None
    priority: Priority | None = None
    type: TicketType | None = None
    group_id: Annotated[StrictInt, Field(ge=1)] | None = None
    assignee_id: Annotated[StrictInt, Field(ge=1)] | None = None
    tags: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, max_length=100, description="The ticket's tags after the change."
    )
    sla_events: list[Literal[tuple(sorted(SLA_EVENT_NAMES))]] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=8, description="SLA events the change carries."
    )


class DryRunRequest(StrictModel):
    ticket_id: Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
    change: HypotheticalChange | None = None
    include_inactive: StrictBool = Field(
        default=False,
        description="Evaluate the inactive triggers too, as if they were active, in their "
        "places: how a draft would behave before it is switched on.",
    )


class ConditionResult(BaseModel):
    group: Literal["all", "any"]
    index: int = Field(description="Its place in the trigger's `conditions.<group>` list.")
    field: ConditionField | CustomFieldName
    operator: Operator
    expected: Any
    actual: Any = Field(
        description="What the condition looked at; `{changed, from, to}` for `changed*`."
    )
    held: bool


class PlannedChangeRead(BaseModel):
    action: str
    kind: ChangeKind
    field: str | None = Field(description="The ticket field a `field` change sets.")
    before: Any
    after: Any
    error: str | None = Field(
        description="Why it could not be applied now (a deleted group, …); it would be skipped."
    )


class TriggerOutcome(BaseModel):
    id: int
    title: str
    position: int
    active: bool = Field(description="False: evaluated only because `include_inactive` asked.")
    matched: bool = Field(
        description="Whether its conditions held when it was last evaluated: at its firing, "
        "or against the ticket as the triggers before it left it."
    )
    fired: bool
    conditions: list[ConditionResult]
    changes: list[PlannedChangeRead] = Field(
        description="What it would do, in order; no-op actions are left out."
    )


class DryRunResult(BaseModel):
    ticket_id: int
    triggers: list[TriggerOutcome] = Field(
        description="Every active trigger (and inactive one, if asked), in firing order."
    )
    fired: list[int] = Field(description="The ids that would fire, in firing order.")
    passes: int
    loop_stopped: bool
    ticket: dict[str, Any] = Field(
        description="The ticket's rule-visible fields after every trigger that would fire."
    )

"""The automations' rule language: time conditions beside the triggers' ticket conditions.

An automation's conditions are ``{all: [...], any: [...]}`` as a trigger's, and each item is
either a ticket condition (``conditions.Condition``, the triggers' table) or a time condition
``{field: "hours_since_pending", operator: "greater_than", value: 40, business_hours: true}``.
An automation is not a reaction to a change, so what only a change has (its comment, its
path, who made it, SLA events, the ``changed*`` operators) is refused when it is saved.

A time condition measures hours from (or, for ``hours_until_sla_due``, to) one of the
ticket's own timestamps (``ANCHORS``); ``is N`` means from N up to N + 1 hours, so it holds
for one hour of the ticket's life. With ``business_hours`` the hours are counted on the
calendar of the ticket's SLA policy (``sweep``'s calendars), and the SQL uses the calendar
hours as a prefilter: business hours never exceed calendar hours.

Every automation needs one ``all`` time condition that bounds its query from below
(``bounding``), so the worker reads one index range per rule, never every ticket.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic import Field as Attribute
from pydantic_core import InitErrorDetails, PydanticCustomError

from helpdesk_api.automation.actions import Action
from helpdesk_api.automation.conditions import CHANGES, Condition, RuleConditions
from helpdesk_api.automation.fields import Field
from helpdesk_api.models import StatusCategory


class TimeField(StrEnum):
    hours_since_created = "hours_since_created"
    hours_since_updated = "hours_since_updated"
    hours_since_status_changed = "hours_since_status_changed"
    hours_since_pending = "hours_since_pending"
    hours_since_on_hold = "hours_since_on_hold"
    hours_since_solved = "hours_since_solved"
    hours_since_requester_replied = "hours_since_requester_replied"
    hours_since_agent_replied = "hours_since_agent_replied"
    hours_until_sla_due = "hours_until_sla_due"


class TimeOperator(StrEnum):
    greater_than = "greater_than"
    less_than = "less_than"
    is_ = "is"


@dataclass(frozen=True)
class Anchor:
    column: str  # the ``tickets`` column the hours are measured from (or to)
    category: StatusCategory | None = None  # the field holds only in this status category
    until: bool = False  # hours *until* the column, not since


ANCHORS: dict[TimeField, Anchor] = {
    TimeField.hours_since_created: Anchor("created_at"),
    TimeField.hours_since_updated: Anchor("updated_at"),
    TimeField.hours_since_status_changed: Anchor("status_changed_at"),
    TimeField.hours_since_pending: Anchor("status_changed_at", StatusCategory.pending),
    TimeField.hours_since_on_hold: Anchor("status_changed_at", StatusCategory.on_hold),
    # ``solved_at`` moves with ``status_changed_at`` whenever a ticket enters a solved status.
    TimeField.hours_since_solved: Anchor("status_changed_at", StatusCategory.solved),
    TimeField.hours_since_requester_replied: Anchor("last_requester_reply_at"),
    TimeField.hours_since_agent_replied: Anchor("last_agent_reply_at"),
    TimeField.hours_until_sla_due: Anchor("sla_next_breach_at", until=True),
}

MAX_HOURS = 100_000  # about eleven years

# What only a change has: an automation runs on a ticket at rest.
CHANGE_ONLY_FIELDS = frozenset(
    {
        Field.update_type,
        Field.via,
        Field.actor_role,
        Field.comment_present,
        Field.comment_public,
        Field.comment_text,
        Field.sla_event,
    }
)


class TimeCondition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: TimeField
    operator: TimeOperator
    value: float = Attribute(
        ge=-MAX_HOURS,
        le=MAX_HOURS,
        allow_inf_nan=False,
        description="Hours; `is` takes whole hours and holds from N up to N + 1. Only "
        "`hours_until_sla_due` takes a negative value (past the deadline).",
    )
    business_hours: bool = Attribute(
        default=False,
        description="Count only the opening hours of the calendar of the ticket's SLA policy "
        "(or the desk's first calendar; without any, Monday to Friday 09:00-17:00 UTC).",
    )

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: float, info: ValidationInfo) -> float:
        field, operator = info.data.get("field"), info.data.get("operator")
        if value < 0 and field is not None and not ANCHORS[field].until:
            raise ValueError(f"'{field}' takes hours of 0 or more")
        if operator is TimeOperator.is_ and value != int(value):
            raise ValueError("'is' takes whole hours")
        return value

    @property
    def anchor(self) -> Anchor:
        return ANCHORS[self.field]

    def bound(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """``(lower, upper)``: the anchor column's range in which the condition can hold,
        in calendar hours (a superset for business hours); None: unbounded on that side."""
        hours, op = self.value, self.operator
        if self.anchor.until:
            # hours until = anchor - now; business hours until <= calendar hours until.
            # Past the deadline business hours count less than calendar hours: no bound.
            exact = not self.business_hours or hours >= 0
            low = (
                now + timedelta(hours=hours) if op is not TimeOperator.less_than and exact else None
            )
            high = (
                now + timedelta(hours=hours + (1 if op is TimeOperator.is_ else 0))
                if op is not TimeOperator.greater_than and not self.business_hours
                else None
            )
            return low, high
        # hours since = now - anchor; business hours since <= calendar hours since.
        upper = now - timedelta(hours=hours) if op is not TimeOperator.less_than else None
        lower = (
            now - timedelta(hours=hours + (1 if op is TimeOperator.is_ else 0))
            if op is not TimeOperator.greater_than and not self.business_hours
            else None
        )
        return lower, upper

    @property
    def bounds_query(self) -> bool:
        """Whether it limits the anchor to a range that does not grow with the table: a
        since-field older than N hours (calendar or business), or a deadline before
        now + N calendar hours."""
        if self.anchor.until:
            return self.operator is not TimeOperator.greater_than and not self.business_hours
        return self.operator is not TimeOperator.less_than

    def holds(self, hours: float | None) -> bool:
        """For ``hours`` measured (None: the ticket has no such time)."""
        if hours is None:
            return False
        match self.operator:
            case TimeOperator.greater_than:
                return hours > self.value
            case TimeOperator.less_than:
                return hours < self.value
            case TimeOperator.is_:
                return self.value <= hours < self.value + 1
        raise AssertionError(self.operator)


def _kind(value: Any) -> str:
    field = value.get("field") if isinstance(value, dict) else getattr(value, "field", None)
    return "time" if isinstance(field, str) and field in TimeField.__members__ else "ticket"


AnyCondition = Annotated[
    Annotated[TimeCondition, Tag("time")] | Annotated[Condition, Tag("ticket")],
    Discriminator(_kind),
]


def _without_tags(error: Any) -> InitErrorDetails:
    # ``("all", 0, "ticket", "value")`` → ``("all", 0, "value")``: paths as the triggers'.
    loc = tuple(error["loc"])
    if len(loc) > 2 and loc[2] in ("time", "ticket"):
        loc = loc[:2] + loc[3:]
    details: InitErrorDetails = {"type": error["type"], "loc": loc, "input": error["input"]}
    if "ctx" in error:
        details["ctx"] = error["ctx"]
    return details


class AutomationConditions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    all: list[AnyCondition] = []
    any: list[AnyCondition] = []

    @model_validator(mode="wrap")
    @classmethod
    def _checked(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            model = handler(data)
        except ValidationError as exc:
            raise ValidationError.from_exception_data(
                exc.title, [_without_tags(e) for e in exc.errors()]
            ) from None
        problems = [
            _problem((group, index, part), condition.model_dump(mode="json"), message)
            for group in ("all", "any")
            for index, condition in enumerate(getattr(model, group))
            for part, message in _change_only(condition)
        ]
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return model

    def time(self, group: str) -> list[TimeCondition]:
        return [c for c in getattr(self, group) if isinstance(c, TimeCondition)]

    def ticket(self) -> RuleConditions:
        """The ticket conditions, as the triggers' engine compiles them."""
        return RuleConditions(
            all=[c for c in self.all if isinstance(c, Condition)],
            any=[c for c in self.any if isinstance(c, Condition)],
        )


def _change_only(condition: TimeCondition | Condition) -> list[tuple[str, str]]:
    if not isinstance(condition, Condition):
        return []
    if condition.field in CHANGE_ONLY_FIELDS:
        return [
            (
                "field",
                f"'{condition.field}' describes a change; an automation runs on a "
                "ticket at rest, so it cannot test it",
            )
        ]
    if condition.field is Field.within_business_hours:
        return [
            (
                "field",
                "an automation measures time in business hours with `business_hours` on its "
                "time conditions; 'within_business_hours' is for triggers",
            )
        ]
    if condition.operator in CHANGES:
        return [
            (
                "operator",
                f"'{condition.operator}' describes a change; an automation "
                "runs on a ticket at rest: test the value instead",
            )
        ]
    return []


def _problem(loc: tuple[str | int, ...], value: Any, message: str) -> InitErrorDetails:
    return {
        "type": PydanticCustomError("automation_condition", message),
        "loc": loc,
        "input": value,
    }


class AutomationRule(BaseModel):
    """What ``automations.rule`` holds; errors point into it, such as
    ``("conditions", "all", 0, "value")`` or ``("actions", 1, "set_status", "status_id")``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conditions: AutomationConditions
    actions: list[Action] = Attribute(min_length=1)

    def bounding(self) -> TimeCondition | None:
        """The ``all`` time condition whose anchor the query ranges over (the narrowest
        kind first: status-bound anchors, then the rest, in the order written)."""
        candidates = [c for c in self.conditions.time("all") if c.bounds_query]
        candidates.sort(key=lambda c: c.anchor.category is None)
        return candidates[0] if candidates else None


UNBOUNDED = (
    "An automation needs a time condition in `all` that limits which tickets it looks at: "
    "an `hours_since_*` field with `greater_than` or `is`, or `hours_until_sla_due` with "
    "`less_than` or `is` in calendar hours."
)

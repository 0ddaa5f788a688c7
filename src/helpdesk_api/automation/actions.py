"""What a trigger does, as validated models, and ``plan``: what each action would change.

Planning is pure: it reads ``TicketFacts`` and says what would change, skipping actions that
change nothing (setting the priority the ticket already has), so a trigger that only
restates the ticket does not count as changing it and does not restart evaluation. Writing
the plan (the ChangeSet, the comment, the outbox, the webhook delivery) is the pipeline
reaction's job.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Annotated, Any, Literal

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    ValidationInfo,
    field_validator,
)
from pydantic import Field as Attribute

from helpdesk_api.automation.conditions import check_tag
from helpdesk_api.automation.facts import TicketFacts
from helpdesk_api.automation.fields import Field
from helpdesk_api.models.ticket import Priority, TicketType

# Only parsed here, to refuse a broken template when the rule is saved; rendering happens
# where the ticket is, with the notifications' guarded environment.
_SYNTAX = ImmutableSandboxedEnvironment()


def _template(source: str) -> str:
    try:
        _SYNTAX.parse(source)
    except TemplateSyntaxError as exc:
        raise ValueError(f"template error on line {exc.lineno}: {exc.message}") from None
    return source


PositiveId = Annotated[int, Attribute(strict=True, gt=0)]
Template = Annotated[str, Attribute(min_length=1, max_length=20_000), AfterValidator(_template)]
Tags = Annotated[list[Annotated[str, AfterValidator(check_tag)]], Attribute(min_length=1)]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SetStatus(_Action):
    action: Literal["set_status"]
    status_id: PositiveId


class SetPriority(_Action):
    action: Literal["set_priority"]
    priority: Priority


class SetType(_Action):
    action: Literal["set_type"]
    type: TicketType | None


class SetGroup(_Action):
    action: Literal["set_group"]
    group_id: PositiveId | None


class SetAssignee(_Action):
    action: Literal["set_assignee"]
    assignee_id: PositiveId | None


class AddTags(_Action):
    action: Literal["add_tags"]
    tags: Tags


class RemoveTags(_Action):
    action: Literal["remove_tags"]
    tags: Tags


class SetTags(_Action):
    action: Literal["set_tags"]
    tags: Annotated[list[Annotated[str, AfterValidator(check_tag)]], Attribute(max_length=100)]


class AddCc(_Action):
    action: Literal["add_cc"]
    user_id: PositiveId


class AddNote(_Action):
    action: Literal["add_note"]  # a private note
    body: Template


class PublicReply(_Action):
    action: Literal["public_reply"]
    body: Template


class Notify(_Action):
    """E-mail someone: in the rule's own words (``subject`` and ``body``), or — for the
    requester — in a notification's editable, translated wording (``template``)."""

    action: Literal["notify"]
    recipient: Literal["requester", "assignee", "group", "user"]
    user_id: PositiveId | None = Attribute(default=None, validate_default=True)
    template: Literal["acknowledgement"] | None = Attribute(
        default=None,
        description="`acknowledgement`: the notification template of that name (with the "
        "SLA's due times), instead of `subject` and `body`; only for the requester.",
    )
    subject: Template | None = Attribute(default=None, validate_default=True)
    body: Template | None = Attribute(default=None, validate_default=True)

    @field_validator("template")
    @classmethod
    def _template_for_requester(cls, template: str | None, info: ValidationInfo) -> str | None:
        if template is not None and info.data.get("recipient") not in (None, "requester"):
            raise ValueError("a notification template is only for the requester")
        return template

    @field_validator("subject", "body")
    @classmethod
    def _wording_or_template(cls, value: str | None, info: ValidationInfo) -> str | None:
        has_template = info.data.get("template") is not None
        if has_template and value is not None:
            raise ValueError("give either a template or the subject and body, not both")
        if not has_template and value is None and "template" in info.data:
            raise ValueError("needed unless a template is given")
        return value

    @field_validator("user_id")
    @classmethod
    def _user_for_user(cls, user_id: int | None, info: ValidationInfo) -> int | None:
        recipient = info.data.get("recipient")
        if recipient == "user" and user_id is None:
            raise ValueError("notifying a user needs its user_id")
        if recipient not in (None, "user") and user_id is not None:
            raise ValueError(f"user_id is only for recipient 'user', not '{recipient}'")
        return user_id


class Route(_Action):
    """Assign within a group (the ticket's own when ``group_id`` is null) by the group's
    routing mode; only an unassigned ticket is routed, so a rule cannot reshuffle work."""

    action: Literal["route"]
    group_id: PositiveId | None = None


class CallWebhook(_Action):
    action: Literal["call_webhook"]
    webhook_id: PositiveId
    payload: Template


Action = Annotated[
    SetStatus | SetPriority | SetType | SetGroup | SetAssignee | AddTags | RemoveTags | SetTags
    | AddCc | AddNote | PublicReply | Notify | Route | CallWebhook,
    Discriminator("action"),
]  # fmt: skip


class ChangeKind(StrEnum):
    field = "field"  # sets a ticket field: evaluation restarts from the top
    route = "route"  # assigns: the apply step picks the assignee, and evaluation restarts
    comment = "comment"  # the rest are effects: written or sent, no restart
    cc = "cc"
    notification = "notification"
    webhook = "webhook"


@dataclass(frozen=True, slots=True)
class PlannedChange:
    action: Action
    kind: ChangeKind
    field: Field | None = None  # for ``kind == field``
    before: Any = None
    after: Any = None

    @property
    def changes_ticket(self) -> bool:
        return self.kind in (ChangeKind.field, ChangeKind.route)


_SETS: dict[type[_Action], tuple[Field, str]] = {
    SetStatus: (Field.status_id, "status_id"),
    SetPriority: (Field.priority, "priority"),
    SetType: (Field.type, "type"),
    SetGroup: (Field.group_id, "group_id"),
    SetAssignee: (Field.assignee_id, "assignee_id"),
}


def plan(actions: Sequence[Action], facts: TicketFacts) -> list[PlannedChange]:
    """What ``actions`` would change, in order; each sees the ticket as the earlier ones left
    it, so ``add_tags x`` then ``remove_tags x`` plans both and a repeated set plans once."""
    planned: list[PlannedChange] = []
    for action in actions:
        change = _plan_one(action, facts)
        if change is not None:
            planned.append(change)
            facts = apply_planned(facts, [change])
    return planned


def _plan_one(action: Action, facts: TicketFacts) -> PlannedChange | None:
    if isinstance(action, SetStatus | SetPriority | SetType | SetGroup | SetAssignee):
        field, attribute = _SETS[type(action)]
        return _set(action, field, facts.current(field), getattr(action, attribute))
    if isinstance(action, AddTags | RemoveTags | SetTags):
        now = facts.tags
        if isinstance(action, AddTags):
            after = now | frozenset(action.tags)
        elif isinstance(action, RemoveTags):
            after = now - frozenset(action.tags)
        else:
            after = frozenset(action.tags)
        return _set(action, Field.tags, now, after)
    if isinstance(action, AddCc):
        if action.user_id in facts.cc_user_ids:
            return None
        return PlannedChange(action, ChangeKind.cc, after=action.user_id)
    if isinstance(action, AddNote | PublicReply):
        return PlannedChange(action, ChangeKind.comment, after=action.body)
    if isinstance(action, Route):
        if facts.assignee_id is not None:
            return None
        return PlannedChange(action, ChangeKind.route, after=action.group_id or facts.group_id)
    if isinstance(action, Notify):
        return PlannedChange(action, ChangeKind.notification)
    return PlannedChange(action, ChangeKind.webhook, after=action.webhook_id)


def _set(action: Action, field: Field, before: Any, after: Any) -> PlannedChange | None:
    if before == after:
        return None  # a no-op set changes nothing, so it neither counts nor restarts
    return PlannedChange(action, ChangeKind.field, field=field, before=before, after=after)


def apply_planned(
    facts: TicketFacts,
    planned: Sequence[PlannedChange],
    *,
    status_categories: Mapping[int, str] | None = None,
) -> TicketFacts:
    """The facts as they would be after ``planned``: what a dry run simulates, and what the
    pipeline's own apply step must agree with. Only field changes and CCs show in facts: a
    trigger's comment is not the change's comment (rules on the customer's words keep
    seeing them), and routing's assignee is chosen by the real apply step.
    ``status_categories`` gives a new status its category; without it the category stays."""
    values: dict[Field, Any] = {}
    for change in planned:
        if change.kind is ChangeKind.field and change.field is not None:
            values[change.field] = change.after
            if change.field is Field.status_id and status_categories:
                values[Field.status_category] = status_categories[change.after]
        elif change.kind is ChangeKind.cc:
            facts = replace(facts, cc_user_ids=facts.cc_user_ids | {change.after})
    return facts.with_values(values)

"""Macros as the API reads and writes them, and the apply request and its result."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StrictInt, StringConstraints

from helpdesk_api.automation.actions import Action, Template
from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import LinesOrEmpty, OneLine
from helpdesk_api.models import MacroVisibility, StatusCategory
from helpdesk_api.notifications.locales import LOCALE_MAX_LENGTH, canonical_locale, is_locale

MAX_MACROS_PER_APPLY = 20

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(examples=["Ask for the invoice number"]),
    OneLine,
]
Description = Annotated[str, Field(max_length=2_000), LinesOrEmpty]
Actions = Annotated[
    list[Action],
    Field(
        max_length=50,
        description="The triggers' actions that make sense for an agent at the ticket: set "
        "status, priority, type, group, assignee; add, remove or set tags; add a CC. "
        "`notify`, `call_webhook`, `route`, `add_note` and `public_reply` are refused (422): "
        "a macro's words go in `comment`, and it sends nothing the agent does not see.",
    ),
]


def _locale(value: str) -> str:
    if not is_locale(value):
        raise ValueError(f"{value!r} is not a locale tag such as 'de' or 'pt-BR'")
    return canonical_locale(value)


Locale = Annotated[str, Field(max_length=LOCALE_MAX_LENGTH), AfterValidator(_locale)]


class MacroComment(StrictModel):
    body_template: Template = Field(
        description="Jinja text (sandboxed): `{{ ticket.id }}`, `{{ ticket.subject }}`, "
        "`{{ ticket.requester.first_name }}`, `{{ ticket.requester.name }}`, "
        "`{{ agent.name }}`, `{{ ticket.resolution_due_at|format_datetime }}` (in the "
        "requester's time zone), … Checked strictly when saved."
    )
    public: StrictBool = Field(
        default=True, description="A reply to the requester, or a private note (false)."
    )
    translations: dict[Locale, Template] = Field(
        default_factory=dict,
        max_length=50,
        description="`body_template` per locale: the requester's locale (then its language) "
        "is used when present, else `body_template`.",
    )


class MacroCreate(StrictModel):
    title: Title
    description: Description | None = None
    active: StrictBool = Field(default=True, description="Inactive macros cannot be applied.")
    visibility: MacroVisibility = Field(
        description="`personal`: the creator's only (any agent may create one); `group`: "
        "the members of `group_id`; `shared`: every agent. Only admins create group and "
        "shared macros."
    )
    group_id: Annotated[StrictInt, Field(ge=1, le=2**63 - 1)] | None = Field(
        default=None, description="Required for `group` visibility, refused otherwise."
    )
    actions: Actions = Field(default_factory=list)
    comment: MacroComment | None = None


class MacroUpdate(StrictModel):
    """Send only what changes; `actions` and `comment` are replaced whole (`comment: null`
    removes it)."""

    title: Title = omittable()
    description: Description | None = None
    active: StrictBool = omittable()
    visibility: MacroVisibility = omittable()
    group_id: Annotated[StrictInt, Field(ge=1, le=2**63 - 1)] | None = None
    actions: Actions = omittable()
    comment: MacroComment | None = None


class MacroRead(BaseModel):
    id: int
    title: str
    description: str | None
    active: bool
    visibility: MacroVisibility
    group_id: int | None
    owner_id: int | None = Field(description="The agent a personal macro belongs to.")
    actions: list[Action]
    comment: MacroComment | None
    usage_count: int = Field(description="How many times it was applied (previews excluded).")
    last_used_at: datetime | None
    created_at: datetime
    updated_at: datetime


class MacroPage(Page[MacroRead]):
    pass


class MacroApply(StrictModel):
    macro_ids: list[Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]] = Field(
        min_length=1,
        max_length=MAX_MACROS_PER_APPLY,
        description="Applied in this order: a later macro wins on the same field; their "
        "comments are joined, a blank line apart, into one comment.",
    )
    preview: StrictBool = Field(
        default=False,
        description="Return what would result, writing nothing (no audit, no usage count).",
    )


class AppliedMacro(BaseModel):
    id: int
    title: str


class MacroTicketFields(BaseModel):
    """The ticket's fields a macro can change, as they are (or would be) after it."""

    status_id: int
    status_category: StatusCategory
    priority: str
    type: str | None
    group_id: int | None
    assignee_id: int | None
    tags: list[str]
    cc_user_ids: list[int] = Field(description="Customers copied and staff following.")


class AppliedComment(BaseModel):
    body: str
    public: bool = Field(description="The flag of the last macro that has a comment.")
    locale: str | None = Field(
        description="The translation used (the requester's locale or its language); null "
        "for the macros' default `body_template`s."
    )


class MacroApplication(BaseModel):
    preview: bool
    macros: list[AppliedMacro]
    ticket: MacroTicketFields
    comment: AppliedComment | None = Field(description="Null when no macro has a comment.")
    comment_id: int | None = Field(description="The comment written; null on a preview.")


def comment_of(stored: dict[str, Any] | None) -> MacroComment | None:
    return None if stored is None else MacroComment.model_validate(stored)

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, StrictInt

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import OneLine
from helpdesk_api.models import CustomFieldType, StatusCategory

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
Key = Annotated[
    str,
    Field(
        pattern=KEY_PATTERN,
        description="How values name the field (`custom_fields: {key: value}`): lower-case "
        "letters, digits and `_`, starting with a letter. Cannot change.",
    ),
]
Title = Annotated[str, Field(min_length=1, max_length=200), OneLine]
OptionValue = Annotated[str, Field(min_length=1, max_length=100), OneLine]
Position = Annotated[StrictInt, Field(ge=0, le=2**31 - 1)]
Pattern = Annotated[str, Field(min_length=1, max_length=500)]
MAX_OPTIONS = 500

OPTIONS = (
    "Dropdown and multiselect only (and required for them): `[{value, title}]`. Tickets store "
    "the `value`; renaming the title changes no ticket, and removing an option keeps the "
    "values already stored (new writes must use a listed option)."
)
PATTERN = "Regex fields only (and required for them): a value must match it whole."
REQUIRED_FOR = (
    "Ticket fields only: a ticket may enter a status of these categories only with a value "
    "in this field (customers are not held to agent-only fields)."
)
AGENT_ONLY = "Never shown to customers, nor settable by them."
CUSTOMER_TITLE = "What customers see as the field's name; null: `title`."
ACTIVE = (
    "An inactive field keeps its stored values (readable as before) but takes no new ones. "
    "Fields are never deleted."
)


FIELD_VALUES = (
    "Values of this kind's custom fields by key; on a change only the keys sent change, and "
    "null clears one. A value that does not fit its field's type is a 422 whose "
    "`errors[].loc` ends at the key."
)
FieldValues = Annotated[
    dict[Annotated[str, Field(max_length=64)], Any],
    Field(max_length=200, description=FIELD_VALUES),
]


class FieldOption(StrictModel):
    value: OptionValue
    title: Title


Options = Annotated[list[FieldOption], Field(max_length=MAX_OPTIONS, description=OPTIONS)]
RequiredFor = Annotated[list[StatusCategory], Field(max_length=6, description=REQUIRED_FOR)]


class CustomFieldCreate(StrictModel):
    key: Key
    title: Title
    type: CustomFieldType
    options: Options = []
    pattern: Pattern | None = Field(default=None, description=PATTERN)
    required_for: RequiredFor = []
    agent_only: StrictBool = Field(default=False, description=AGENT_ONLY)
    customer_title: Title | None = Field(default=None, description=CUSTOMER_TITLE)
    position: Position | None = Field(default=None, description="Null: after the last.")
    active: StrictBool = Field(default=True, description=ACTIVE)


class CustomFieldUpdate(StrictModel):
    """Only the fields sent change; `key` and `type` never do (stored values depend on them)."""

    title: Title = omittable()
    options: Options = omittable()
    pattern: Pattern | None = Field(default=None, description=PATTERN)
    required_for: RequiredFor = omittable()
    agent_only: StrictBool = omittable()
    customer_title: Title | None = Field(default=None, description=CUSTOMER_TITLE)
    position: Position = omittable()
    active: StrictBool = omittable()


class FieldOptionRead(BaseModel):
    value: str
    title: str


class CustomFieldRead(BaseModel):
    id: int
    key: str
    title: str
    type: CustomFieldType
    options: list[FieldOptionRead] = Field(description=OPTIONS)
    pattern: str | None = Field(description=PATTERN)
    required_for: list[StatusCategory] = Field(description=REQUIRED_FOR)
    agent_only: bool = Field(description=AGENT_ONLY)
    customer_title: str | None = Field(description=CUSTOMER_TITLE)
    position: int
    active: bool = Field(description=ACTIVE)
    created_at: datetime
    updated_at: datetime


class CustomFieldPage(Page[CustomFieldRead]):
    pass

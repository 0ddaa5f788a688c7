from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, Field, StrictBool

from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import LinesOrEmpty

# A known type or "*": a misspelt type would be accepted and receive nothing.
Subscription = EventType | Literal["*"]
EventTypes = Annotated[list[Subscription], Field(min_length=1, max_length=100)]
Url = Annotated[AnyHttpUrl, Field(max_length=2048)]


class WebhookCreate(StrictModel):
    url: Url
    events: EventTypes = Field(default=["*"], description='Event types, or ["*"] for all.')
    description: Annotated[str, Field(max_length=1000), LinesOrEmpty] | None = None
    active: StrictBool = True


class WebhookUpdate(StrictModel):
    url: Url = omittable()
    events: EventTypes = omittable()
    description: Annotated[str, Field(max_length=1000), LinesOrEmpty] | None = None
    active: StrictBool = omittable()


class WebhookRead(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str | None
    active: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="`whsec_…`; shown once. Verify deliveries with it.")


class SecretRotated(BaseModel):
    secret: str
    previous_secret_expires_at: datetime


class WebhookPage(Page[WebhookRead]):
    pass


class AttemptRead(BaseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    response_body: str | None


class DeliveryRead(BaseModel):
    id: int
    msg_id: str
    event_id: int | None
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[AttemptRead]


class DeliveryPage(Page[DeliveryRead]):
    pass

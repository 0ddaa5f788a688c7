from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import Lines
from helpdesk_api.notifications.events import Audience, NotificationEvent
from helpdesk_api.notifications.templates import TemplateOrigin
from helpdesk_api.tickets import Id

SubjectTemplate = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2_000,
        description="One line once rendered (line breaks become spaces).",
        examples=["[#{{ ticket.id }}] {{ ticket.subject }}"],
    ),
    Lines,
]
TextTemplate = Annotated[str, Field(min_length=1, max_length=100_000), Lines]
HtmlTemplate = Annotated[
    str,
    Field(min_length=1, max_length=200_000, description="Autoescaped: values are escaped."),
    Lines,
]


class NotificationTemplateWrite(StrictModel):
    """An admin's wording: three Jinja templates, checked against a sample context."""

    subject: SubjectTemplate
    text_body: TextTemplate
    html_body: HtmlTemplate | None = Field(
        default=None, description="Null or left out: the message is text only."
    )


class NotificationTemplateRead(BaseModel):
    event: NotificationEvent
    locale: str
    audience: Audience = Field(description="Who receives it: the customer or staff.")
    customised: bool = Field(
        description="Whether an admin wrote the wording for exactly this event and locale."
    )
    source: TemplateOrigin = Field(
        description="Whose wording applies: an admin's (`custom`) or the built-in one."
    )
    source_locale: str = Field(
        description="The locale of the wording that applies: this one, or the one it falls "
        "back to (its language, then `en`)."
    )
    subject: str
    text_body: str
    html_body: str | None
    updated_at: datetime | None = Field(description="When an admin last saved it; null: never.")


class NotificationTemplatePage(Page[NotificationTemplateRead]):
    pass


class NotificationPreviewRequest(StrictModel):
    """Parts given here replace the saved wording for this preview only (an unsaved draft,
    checked as a save would be); parts left out are the saved ones."""

    subject: SubjectTemplate = omittable()
    text_body: TextTemplate = omittable()
    html_body: HtmlTemplate | None = None
    ticket_id: Id | None = Field(
        default=None,
        description="Render about this ticket (its requester, or for staff notices its "
        "assignee, as the recipient); null: a sample ticket.",
    )


class NotificationPreview(BaseModel):
    subject: str
    text: str
    html: str | None
    source: TemplateOrigin
    source_locale: str
    ticket_id: int | None = Field(description="The ticket rendered about; null: the sample.")

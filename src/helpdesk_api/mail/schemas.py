"""What the API shows of the mail we send."""

from datetime import datetime

from pydantic import BaseModel, Field

from helpdesk_api.core.pagination import Page


class EmailDeliveryRead(BaseModel):
    """One message in the outbox: to whom, about what, and how sending it went."""

    id: int
    kind: str = Field(
        description="What the message tells: public_reply, status_changed, acknowledgement, …"
    )
    message_id: str = Field(description="Its Message-ID, without angle brackets.")
    mail_from: str = Field(description="The mailbox it is sent from.")
    recipients: list[str] = Field(description="The recipient, then its Cc list.")
    subject: str
    status: str = Field(
        description="pending (waiting for its first or next attempt), sending, sent or failed."
    )
    attempts: int
    next_attempt_at: datetime | None = Field(
        description="When the next attempt is due; null once sent or failed."
    )
    last_error: str | None = Field(
        description="The latest failed attempt's error (kept after a later success), or the "
        "recipients the relay refused when it took the message for the others."
    )
    created_at: datetime
    sent_at: datetime | None = Field(description="When the relay accepted it.")
    comment_id: int | None = Field(description="The comment it carries, if any.")


class EmailDeliveryPage(Page[EmailDeliveryRead]):
    pass

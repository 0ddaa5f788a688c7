from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool, StrictInt

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import OneLine
from helpdesk_api.models import ImapSecurity

Name = Annotated[str, Field(min_length=1, max_length=100), OneLine]
Host = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.\-:\[\]]+$")]
Port = Annotated[StrictInt, Field(ge=1, le=65535)]
Folder = Annotated[str, Field(min_length=1, max_length=255), OneLine]
Secret = Annotated[str, Field(min_length=1, max_length=500)]
GroupRef = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]


class EmailChannelCreate(StrictModel):
    name: Name
    address: Annotated[EmailStr, Field(max_length=320)] = Field(
        description="The support address customers write to; mail to it opens tickets."
    )
    display_name: Name | None = Field(
        default=None, description='Shown in From: on replies ("Acme Support").'
    )
    group_id: GroupRef | None = Field(default=None, description="New tickets go to this group.")
    active: StrictBool = True
    acknowledge: StrictBool = Field(
        default=True,
        description="Reply automatically to a new ticket's requester (never to machine mail).",
    )
    imap_host: Host | None = Field(
        default=None, description="Poll this IMAP server for the mailbox; null: no polling."
    )
    imap_port: Port | None = Field(default=None, description="Default: 993 (ssl) or 143.")
    imap_security: ImapSecurity = ImapSecurity.ssl
    imap_username: Annotated[str, Field(min_length=1, max_length=320), OneLine] | None = None
    imap_password: Secret | None = Field(default=None, description="Write-only.")
    imap_folder: Folder = "INBOX"
    imap_archive_folder: Folder | None = Field(
        default=None,
        description="Imported mail moves here; null: it is flagged seen and left in place.",
    )


class EmailChannelUpdate(StrictModel):
    name: Name = omittable()
    address: Annotated[EmailStr, Field(max_length=320)] = omittable()
    display_name: Name | None = None
    group_id: GroupRef | None = None
    active: StrictBool = omittable()
    acknowledge: StrictBool = omittable()
    imap_host: Host | None = None
    imap_port: Port | None = None
    imap_security: ImapSecurity = omittable()
    imap_username: Annotated[str, Field(min_length=1, max_length=320), OneLine] | None = None
    imap_password: Secret | None = Field(default=None, description="Write-only.")
    imap_folder: Folder = omittable()
    imap_archive_folder: Folder | None = None


class EmailChannelRead(BaseModel):
    id: int
    name: str
    address: str
    display_name: str | None
    group_id: int | None
    active: bool
    acknowledge: bool
    imap_host: str | None
    imap_port: int | None
    imap_security: ImapSecurity
    imap_username: str | None
    imap_password_set: bool
    imap_folder: str
    imap_archive_folder: str | None
    imap_checked_at: datetime | None
    imap_error: str | None
    created_at: datetime
    updated_at: datetime


class EmailChannelPage(Page[EmailChannelRead]):
    pass


class InboundEmailRead(BaseModel):
    """A message as it came in, and what it became."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    channel_id: int | None
    message_id: str | None
    sender: str | None
    subject: str | None
    source: Literal["smtp", "imap", "api"]
    size: int
    status: Literal["received", "processed", "ignored", "failed", "discarded"]
    outcome: str | None = Field(
        description="new_ticket, comment, rate_limited (joined the sender's latest ticket), "
        "own_mail, bounce; null while failed or unprocessed."
    )
    thread_match: str | None = Field(
        description="How a reply found its ticket: in-reply-to, references, message-id-token "
        "or subject-token."
    )
    error: str | None
    attempts: int
    ticket_id: int | None
    comment_id: int | None
    received_at: datetime
    processed_at: datetime | None


class InboundResult(InboundEmailRead):
    duplicate: bool = Field(
        description="The same message (by Message-ID) was already received: nothing was done "
        "twice, and this describes the first copy."
    )


class InboundEmailPage(Page[InboundEmailRead]):
    pass

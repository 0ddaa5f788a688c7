from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, Field, StrictBool, StrictInt

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import Lines, OneLine
from helpdesk_api.models import ChannelKind, IdentityKind

Name = Annotated[str, Field(min_length=1, max_length=100), OneLine]
GroupRef = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
Url = Annotated[AnyHttpUrl, Field(max_length=2048)]
# A minute to a year.
ReopenMinutes = Annotated[StrictInt, Field(ge=1, le=525_600)]
BotRank = Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)]
BotArticles = Annotated[StrictInt, Field(ge=1, le=10)]
BotToken = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[0-9]+:[A-Za-z0-9_-]+$")]
ExternalId = Annotated[str, Field(min_length=1, max_length=200), OneLine]
MESSAGE_MAX_CHARS = 20_000
ATTACHMENTS_MAX = 10
FILENAME_MAX = 255

_SECRET = (
    "The channel's secret, shown once: callers send it as `Authorization: Bearer <secret>` "
    "(Telegram: set it as the webhook's `secret_token`). Only its digest is kept."
)


class ChannelCreate(StrictModel):
    kind: ChannelKind = Field(
        description="chat, telegram, whatsapp, phone, social: conversations with customers "
        "(POST /v1/channels/{id}/messages; Telegram also /v1/channels/telegram/{id}/webhook); "
        "alertmanager: monitoring alerts (POST /v1/channels/alertmanager/{id})."
    )
    name: Name
    group_id: GroupRef | None = Field(default=None, description="New tickets go to this group.")
    active: StrictBool = True
    webhook_url: Url | None = Field(
        default=None,
        description="Agents' public replies are POSTed here, signed like our webhooks "
        "(Standard Webhooks, with `webhook_secret`). Not for telegram or alertmanager.",
    )
    reopen_window_minutes: ReopenMinutes = Field(
        default=1440,
        description="A message joins its sender's unsolved conversation on this channel; "
        "a solved one is reopened by a message within this many minutes of being solved; "
        "otherwise (or once closed) the message opens a new ticket.",
    )
    telegram_bot_token: BotToken | None = Field(
        default=None, description="Telegram only, required there; write-only."
    )
    telegram_api_base_url: Url | None = Field(
        default=None, description="Telegram only: the Bot API's address (default the real one)."
    )
    alert_solve_when_resolved: StrictBool = Field(
        default=True,
        description="Alertmanager only: solve a group's ticket once every alert of the group "
        "(by fingerprint) is resolved.",
    )
    kb_bot_enabled: StrictBool = Field(
        default=False,
        description="Answer a new conversation at once with the best public knowledge base "
        'articles in the sender\'s language, and a link (or the reply "solved") that solves '
        "it. Needs the service's `kb_article_url` and `kb_deflection_url` settings.",
    )
    kb_bot_min_rank: BotRank = Field(
        default=0.05,
        description="The least search rank an article needs to be offered (the message's "
        "words: about 0.03 for one word in a body, 0.1 or more for title words).",
    )
    kb_bot_max_articles: BotArticles = Field(default=3, description="Articles offered at most.")


class ChannelUpdate(StrictModel):
    name: Name = omittable()
    group_id: GroupRef | None = None
    active: StrictBool = omittable()
    webhook_url: Url | None = None
    reopen_window_minutes: ReopenMinutes = omittable()
    telegram_bot_token: BotToken = omittable()
    telegram_api_base_url: Url = omittable()
    alert_solve_when_resolved: StrictBool = omittable()
    kb_bot_enabled: StrictBool = omittable()
    kb_bot_min_rank: BotRank = omittable()
    kb_bot_max_articles: BotArticles = omittable()


class ChannelRead(BaseModel):
    id: int
    kind: ChannelKind
    name: str
    group_id: int | None
    active: bool
    webhook_url: str | None
    reopen_window_minutes: int
    telegram_bot_token_set: bool
    telegram_api_base_url: str | None
    alert_solve_when_resolved: bool
    kb_bot_enabled: bool
    kb_bot_min_rank: float
    kb_bot_max_articles: int
    created_at: datetime
    updated_at: datetime


class NewChannel(ChannelRead):
    """The new channel with its secrets, which no later read returns."""

    secret: str = Field(description=_SECRET)
    webhook_secret: str | None = Field(
        description="Verifies the replies sent to `webhook_url` (`whsec_…`); null for "
        "telegram and alertmanager channels."
    )


class ChannelPage(Page[ChannelRead]):
    pass


class SenderIdentity(StrictModel):
    kind: IdentityKind = Field(description="How the sender is known on this channel.")
    value: Annotated[str, Field(min_length=1, max_length=320), OneLine]


class MessageAttachment(StrictModel):
    filename: Annotated[str, Field(min_length=1, max_length=FILENAME_MAX), OneLine]
    content_type: Annotated[
        str, Field(min_length=3, max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+$")
    ] = "application/octet-stream"
    content_base64: Annotated[str, Field(min_length=1)] = Field(
        description="The file's bytes, base64; at most the service's attachment size limit."
    )


class MessageCreate(StrictModel):
    external_id: ExternalId = Field(
        description="The message's id on the other side: the same id again is a replay, "
        "answered with the first message's result (200) and nothing done twice."
    )
    sender: SenderIdentity
    name: Annotated[str, Field(min_length=1, max_length=200), OneLine] | None = Field(
        default=None, description="The sender's display name, for a customer seen first."
    )
    text: Annotated[str, Field(min_length=1, max_length=MESSAGE_MAX_CHARS), Lines]
    attachments: Annotated[list[MessageAttachment], Field(max_length=ATTACHMENTS_MAX)] = []


class MessageResult(BaseModel):
    id: int
    channel_id: int
    external_id: str
    user_id: int | None
    ticket_id: int | None
    comment_id: int | None
    outcome: Literal["new_ticket", "comment", "ignored"] | None = Field(
        description="new_ticket, comment (joined the sender's conversation), or ignored "
        "(a Telegram update that carries no message)."
    )
    duplicate: bool = Field(
        description="This external id was received before: this is the first result."
    )
    received_at: datetime


class AlertResult(BaseModel):
    ticket_id: int | None
    outcome: Literal["new_ticket", "note", "solved", "ignored"]
    firing: int = Field(description="Alerts of the group still firing, by fingerprint.")
    resolved: int = Field(description="Alerts of the group resolved, by fingerprint.")

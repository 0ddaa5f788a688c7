"""The ``data`` of messaging channels' events. Channel events are admins' (webhook URLs, bot
settings); the others are staff's, on the ticket they concern, and never a customer's."""

from typing import Literal

from pydantic import Field

from helpdesk_api.channels.schemas import AlertResult, ChannelRead, MessageResult
from helpdesk_api.event_catalogue.payloads import Changes, Payload


class ChannelCreated(Payload):
    channel: ChannelRead


class ChannelUpdated(Payload):
    channel_id: int
    changes: Changes = Field(description="A changed bot token is told, never its value.")
    channel: ChannelRead


class ChannelMessageReceived(Payload):
    message: MessageResult


class ChannelAlertReceived(Payload):
    channel_id: int
    group_key: str
    status: Literal["firing", "resolved"]
    result: AlertResult


class ChannelDeliveryFailed(Payload):
    channel_id: int
    ticket_id: int
    comment_id: int
    target: Literal["webhook", "telegram"]
    status: Literal["failed", "gave_up"] = Field(
        description="failed: refused for good (410, a blocked bot); gave_up: retries ran out."
    )
    attempts: int
    error: str | None

"""The webhook messages this service sends, one per event type, for the OpenAPI ``webhooks``
section.

A delivery's body is ``{type, timestamp, data}``; ``data`` is the event's payload plus the
``event_id`` and ``ticket_id`` of the event it tells (see ``webhooks/dispatch.py``).
"""

from datetime import datetime
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, create_model

from helpdesk_api.channels.replies import REPLY_TYPE, ChannelReply
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.openapi import WebhookDoc
from helpdesk_api.event_catalogue.catalogue import CATALOGUE


@cache
def _delivered(payload: type[BaseModel]) -> type[BaseModel]:
    # One model per payload, shared by the event types that use it, so each gets one name.
    return create_model(
        f"{payload.__name__}Data",
        __base__=payload,
        event_id=(int, ...),
        ticket_id=(int | None, ...),
    )


def message_model(event_type: EventType) -> type[BaseModel]:
    spec = CATALOGUE[event_type]
    # A ping tells no event: its data is the payload alone.
    data = spec.payload if event_type is EventType.webhook_ping else _delivered(spec.payload)
    name = "".join(part.title() for part in event_type.name.split("_")) + "Message"
    literal: Any = Literal.__getitem__(event_type.value)
    return create_model(
        name,
        type=(literal, ...),
        timestamp=(datetime, ...),
        data=(data, ...),
    )


@cache
def webhook_docs() -> list[WebhookDoc]:
    docs = [
        WebhookDoc(event_type.value, spec.description, message_model(event_type))
        for event_type, spec in CATALOGUE.items()
    ]
    # Not an event: what a messaging channel's webhook_url receives for each public reply.
    docs.append(WebhookDoc(REPLY_TYPE, ChannelReply.__doc__ or REPLY_TYPE, ChannelReply))
    return docs

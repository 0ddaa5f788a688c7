"""Who may post into a channel: whoever holds its secret, not a user's token.

The secret is compared by its digest, found by the channel's id, so a wrong secret and an
unknown channel answer alike (401): the endpoint never tells which channels exist.
"""

import hmac
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from helpdesk_api.core.auth import hash_token
from helpdesk_api.core.db import DB
from helpdesk_api.core.errors import Conflict, NotFound, Unauthorized
from helpdesk_api.core.params import ResourceId
from helpdesk_api.models import ChannelKind, MessagingChannel

channel_bearer = HTTPBearer(
    scheme_name="channelSecret",
    auto_error=False,
    description="A messaging channel's secret (`Bearer hdch_…`), shown once when the channel "
    "is created; not a user's token.",
)
telegram_secret_header = APIKeyHeader(
    name="X-Telegram-Bot-Api-Secret-Token",
    scheme_name="telegramSecretToken",
    auto_error=False,
    description="The channel's secret, which Telegram sends with every update once it is "
    "given as setWebhook's `secret_token`.",
)


async def _channel_with_secret(
    session: DB, channel_id: int, secret: str | None, kinds: frozenset[ChannelKind]
) -> MessagingChannel:
    if not secret:
        raise Unauthorized("This endpoint needs the channel's secret.")
    channel = await session.scalar(
        select(MessagingChannel).where(MessagingChannel.id == channel_id)
    )
    if channel is None or not hmac.compare_digest(channel.secret_hash, hash_token(secret)):
        raise Unauthorized("The channel's secret is not valid.")
    if channel.kind not in kinds:
        raise NotFound(
            f"Channel {channel_id} is a {channel.kind} channel; this endpoint is for "
            f"{', '.join(sorted(kinds))} channels."
        )
    if not channel.is_active:
        raise Conflict(f"Channel {channel_id} is not active.")
    return channel


MESSAGE_KINDS = frozenset(
    {ChannelKind.chat, ChannelKind.whatsapp, ChannelKind.phone, ChannelKind.social,
     ChannelKind.telegram}
)  # fmt: skip


async def message_channel(
    channel_id: ResourceId,
    session: DB,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(channel_bearer)],
) -> MessagingChannel:
    secret = credentials.credentials if credentials is not None else None
    return await _channel_with_secret(session, channel_id, secret, MESSAGE_KINDS)


async def alertmanager_channel(
    channel_id: ResourceId,
    session: DB,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(channel_bearer)],
) -> MessagingChannel:
    secret = credentials.credentials if credentials is not None else None
    return await _channel_with_secret(
        session, channel_id, secret, frozenset({ChannelKind.alertmanager})
    )


async def telegram_channel(
    channel_id: ResourceId,
    session: DB,
    secret: Annotated[str | None, Depends(telegram_secret_header)],
) -> MessagingChannel:
    return await _channel_with_secret(
        session, channel_id, secret, frozenset({ChannelKind.telegram})
    )


MessageChannel = Annotated[MessagingChannel, Depends(message_channel)]
AlertmanagerChannel = Annotated[MessagingChannel, Depends(alertmanager_channel)]
TelegramChannel = Annotated[MessagingChannel, Depends(telegram_channel)]

"""Admins' channels: create, read, change. Never commits.

Secrets are write-only: the inbound secret and the webhook signing secret are shown once, in
the creation's answer; only the inbound secret's digest is kept, and reads say only whether a
Telegram bot token is set.
"""

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.channels.schemas import ChannelCreate, ChannelRead, ChannelUpdate, NewChannel
from helpdesk_api.core.auth import Principal, hash_token
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.resource import AdminResource, field_changes, touch
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import ChannelKind, Group, MessagingChannel
from helpdesk_api.webhooks.signing import new_secret
from helpdesk_api.webhooks.ssrf import check_webhook_url

CHANNELS = AdminResource("channel", "/v1/channels", MessagingChannel, "Channel")
TELEGRAM_API = "https://api.telegram.org"
SECRET_PREFIX = "hdch_"
_FIELDS = tuple(ChannelRead.model_fields)
# Bridges: a reply goes back through the channel's webhook, signed with its own secret.
WEBHOOK_KINDS = frozenset(
    {ChannelKind.chat, ChannelKind.whatsapp, ChannelKind.phone, ChannelKind.social}
)


def new_channel_secret() -> str:
    # Telegram's secret_token allows A-Z, a-z, 0-9, _ and -: token_urlsafe stays within them.
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def to_read(channel: MessagingChannel) -> ChannelRead:
    return ChannelRead(
        id=channel.id,
        kind=ChannelKind(channel.kind),
        name=channel.name,
        group_id=channel.group_id,
        active=channel.is_active,
        webhook_url=channel.webhook_url,
        reopen_window_minutes=channel.reopen_window_seconds // 60,
        telegram_bot_token_set=channel.telegram_bot_token is not None,
        telegram_api_base_url=channel.telegram_api_base_url,
        alert_solve_when_resolved=channel.alert_solve_when_resolved,
        kb_bot_enabled=channel.kb_bot_enabled,
        kb_bot_min_rank=channel.kb_bot_min_rank,
        kb_bot_max_articles=channel.kb_bot_max_articles,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


async def _check_group(session: AsyncSession, group_id: int | None) -> None:
    if group_id is not None and await session.get(Group, group_id) is None:
        raise InvalidInput(f"Group {group_id} does not exist.", loc=("body", "group_id"))


def _check_kind_fields(channel: MessagingChannel) -> None:
    kind = ChannelKind(channel.kind)
    if kind is ChannelKind.telegram:
        if channel.telegram_bot_token is None:
            raise InvalidInput(
                "A Telegram channel needs telegram_bot_token.", loc=("body", "telegram_bot_token")
            )
    elif channel.telegram_bot_token is not None or (
        channel.telegram_api_base_url not in (None, TELEGRAM_API)
    ):
        raise InvalidInput(
            "telegram_bot_token and telegram_api_base_url are for Telegram channels only.",
            loc=("body", "telegram_bot_token"),
        )
    if kind in (ChannelKind.telegram, ChannelKind.alertmanager) and channel.webhook_url:
        raise InvalidInput(
            f"A {kind} channel sends no webhooks: leave webhook_url out.",
            loc=("body", "webhook_url"),
        )


async def _check_url(url: str | None, settings: Settings) -> None:
    if url is not None:
        await check_webhook_url(url, allow_private=settings.webhook_allow_private)


async def create_channel(
    session: AsyncSession, principal: Principal, data: ChannelCreate, *, settings: Settings
) -> NewChannel:
    await _check_group(session, data.group_id)
    webhook_url = str(data.webhook_url) if data.webhook_url is not None else None
    await _check_url(webhook_url, settings)
    secret = new_channel_secret()
    now = datetime.now(UTC)
    channel = MessagingChannel(
        kind=data.kind,
        name=data.name,
        group_id=data.group_id,
        is_active=data.active,
        secret_hash=hash_token(secret),
        webhook_url=webhook_url,
        webhook_secret=new_secret() if data.kind in WEBHOOK_KINDS else None,
        reopen_window_seconds=data.reopen_window_minutes * 60,
        telegram_bot_token=data.telegram_bot_token,
        telegram_api_base_url=(
            str(data.telegram_api_base_url).rstrip("/")
            if data.telegram_api_base_url
            else (TELEGRAM_API if data.kind == ChannelKind.telegram else None)
        ),
        alert_solve_when_resolved=data.alert_solve_when_resolved,
        kb_bot_enabled=data.kb_bot_enabled,
        kb_bot_min_rank=data.kb_bot_min_rank,
        kb_bot_max_articles=data.kb_bot_max_articles,
        created_at=now,
        updated_at=now,
    )
    _check_kind_fields(channel)
    session.add(channel)
    await session.flush()
    read = to_read(channel)
    await CHANNELS.record_created(session, actor_id=principal.user_id, read=read)
    return NewChannel(**read.model_dump(), secret=secret, webhook_secret=channel.webhook_secret)


async def update_channel(
    session: AsyncSession,
    principal: Principal,
    channel: MessagingChannel,
    data: ChannelUpdate,
    *,
    settings: Settings,
) -> MessagingChannel:
    before = to_read(channel).model_dump(mode="json")
    values: dict[str, Any] = {name: getattr(data, name) for name in data.model_fields_set}
    if "group_id" in values:
        await _check_group(session, values["group_id"])
    for url_field in ("webhook_url", "telegram_api_base_url"):
        if values.get(url_field) is not None:
            values[url_field] = str(values[url_field]).rstrip("/")
    if values.get("webhook_url") is not None:
        await _check_url(values["webhook_url"], settings)
    token_changed = "telegram_bot_token" in values
    for name, value in values.items():
        if name == "active":
            channel.is_active = value
        elif name == "reopen_window_minutes":
            channel.reopen_window_seconds = value * 60
        else:
            setattr(channel, name, value)
    _check_kind_fields(channel)
    touch(channel)
    await session.flush()
    await session.refresh(channel)
    after = to_read(channel).model_dump(mode="json")
    changes = field_changes(before, after, fields=_FIELDS)
    if token_changed:
        changes.append({"field": "telegram_bot_token", "from": None, "to": None})
    await CHANNELS.record_updated(
        session,
        actor_id=principal.user_id,
        resource_id=channel.id,
        changes=changes,
        channel=after,
    )
    return channel

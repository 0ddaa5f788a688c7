"""Mailboxes: the support addresses, where their mail comes from, and where tickets go.

Never commits. The IMAP password is write-only: reads say only whether one is set, and
events record only that it changed.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput
from helpdesk_api.core.resource import AdminResource, field_changes, touch
from helpdesk_api.mail.channel_schemas import (
    EmailChannelCreate,
    EmailChannelRead,
    EmailChannelUpdate,
)
from helpdesk_api.models import EmailChannel, Group, ImapSecurity

CHANNELS = AdminResource("email_channel", "/v1/email-channels", EmailChannel, "Mailbox")
_FIELDS = tuple(EmailChannelRead.model_fields)
# Columns the API names differently.
_RENAMED = {"active": "is_active"}


def to_read(channel: EmailChannel) -> EmailChannelRead:
    return EmailChannelRead(
        id=channel.id,
        name=channel.name,
        address=channel.address,
        display_name=channel.display_name,
        group_id=channel.group_id,
        active=channel.is_active,
        acknowledge=channel.acknowledge,
        imap_host=channel.imap_host,
        imap_port=channel.imap_port,
        imap_security=ImapSecurity(channel.imap_security),
        imap_username=channel.imap_username,
        imap_password_set=channel.imap_password is not None,
        imap_folder=channel.imap_folder,
        imap_archive_folder=channel.imap_archive_folder,
        imap_checked_at=channel.imap_checked_at,
        imap_error=channel.imap_error,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


async def _check_group(session: AsyncSession, group_id: int | None) -> None:
    if group_id is not None and await session.get(Group, group_id) is None:
        raise InvalidInput(f"Group {group_id} does not exist.", loc=("body", "group_id"))


def _check_imap(channel: EmailChannel) -> None:
    if channel.imap_host is not None and not (channel.imap_username and channel.imap_password):
        raise InvalidInput(
            "Polling a mailbox over IMAP needs imap_username and imap_password.",
            loc=("body", "imap_host"),
        )


async def _flush_unique(session: AsyncSession, address: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"Another mailbox already has the address {address}.") from exc


async def _address_free(session: AsyncSession, address: str, own_id: int | None = None) -> None:
    owner = await session.scalar(select(EmailChannel.id).where(EmailChannel.address == address))
    if owner is not None and owner != own_id:
        raise Conflict(f"Mailbox {owner} already has the address {address}.")


async def create_channel(
    session: AsyncSession, principal: Principal, data: EmailChannelCreate
) -> EmailChannel:
    address = str(data.address).lower()
    await _check_group(session, data.group_id)
    await _address_free(session, address)
    now = datetime.now(UTC)
    channel = EmailChannel(
        name=data.name,
        address=address,
        display_name=data.display_name,
        group_id=data.group_id,
        is_active=data.active,
        acknowledge=data.acknowledge,
        imap_host=data.imap_host,
        imap_port=data.imap_port,
        imap_security=data.imap_security,
        imap_username=data.imap_username,
        imap_password=data.imap_password,
        imap_folder=data.imap_folder,
        imap_archive_folder=data.imap_archive_folder,
        created_at=now,
        updated_at=now,
    )
    _check_imap(channel)
    session.add(channel)
    await _flush_unique(session, address)
    await CHANNELS.record_created(session, actor_id=principal.user_id, read=to_read(channel))
    return channel


async def update_channel(
    session: AsyncSession, principal: Principal, channel: EmailChannel, data: EmailChannelUpdate
) -> EmailChannel:
    before = to_read(channel).model_dump(mode="json")
    values: dict[str, Any] = {
        name: getattr(data, name) for name in data.model_fields_set if name != "imap_password"
    }
    if "address" in values:
        values["address"] = str(values["address"]).lower()
        await _address_free(session, values["address"], channel.id)
    if "group_id" in values:
        await _check_group(session, values["group_id"])
    for name, value in values.items():
        setattr(channel, _RENAMED.get(name, name), value)
    password_changed = "imap_password" in data.model_fields_set
    if password_changed:
        channel.imap_password = data.imap_password
    if {"imap_host", "imap_username", "imap_folder"} & data.model_fields_set:
        # Another mailbox on the server: start from its first message, not our last UID.
        channel.imap_uid_validity = None
        channel.imap_last_uid = 0
    _check_imap(channel)
    touch(channel)
    await _flush_unique(session, channel.address)
    await session.refresh(channel)
    after = to_read(channel).model_dump(mode="json")
    changes = field_changes(before, after, fields=_FIELDS)
    if password_changed:
        changes.append({"field": "imap_password", "from": None, "to": None})
    await CHANNELS.record_updated(
        session,
        actor_id=principal.user_id,
        resource_id=channel.id,
        changes=changes,
        email_channel=after,
    )
    return channel

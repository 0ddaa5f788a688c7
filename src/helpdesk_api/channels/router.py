import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import select

from helpdesk_api.channels import admin
from helpdesk_api.channels.access import AlertmanagerChannel, MessageChannel, TelegramChannel
from helpdesk_api.channels.alerts import AlertmanagerPayload, receive_alerts
from helpdesk_api.channels.intake import File, Inbound, ignore, receive
from helpdesk_api.channels.schemas import (
    AlertResult,
    ChannelCreate,
    ChannelPage,
    ChannelRead,
    ChannelUpdate,
    MessageCreate,
    MessageResult,
    NewChannel,
)
from helpdesk_api.channels.telegram import TelegramUpdate, external_id, to_inbound
from helpdesk_api.core.auth import Admin
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.errors import InvalidInput, PayloadTooLarge, problem_responses
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit, SortKey, paginate
from helpdesk_api.core.params import ResourceId
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import IdentityKind, MessagingChannel

router = APIRouter(prefix="/v1/channels", tags=["channels"], route_class=TransactionalRoute)

_REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {
        "model": MessageResult,
        "description": "A replay: this external id was received before; the first result.",
    },
    201: {"description": "The message was received."},
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("")
async def list_channels(
    session: DB, principal: Admin, limit: Limit = 50, cursor: Cursor = None
) -> ChannelPage:
    rows, next_cursor = await paginate(
        session,
        select(MessagingChannel),
        keys=[SortKey(MessagingChannel.id, lambda c: c.id)],
        limit=limit,
        cursor=cursor,
    )
    return ChannelPage(data=[admin.to_read(c) for c in rows], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_channel(
    data: ChannelCreate, session: DB, principal: Admin, response: Response, request: Request
) -> NewChannel:
    """Add a channel. The answer carries its secrets, which no later read shows."""
    created = await admin.create_channel(session, principal, data, settings=_settings(request))
    response.headers["Location"] = f"/v1/channels/{created.id}"
    response.headers["ETag"] = f'"channel-{created.id}-v1"'
    return created


@router.get("/{channel_id}")
async def get_channel(
    channel_id: ResourceId, session: DB, principal: Admin, response: Response
) -> ChannelRead:
    channel = await admin.CHANNELS.get(session, channel_id)
    admin.CHANNELS.set_etag(response, channel)
    return admin.to_read(channel)


@router.patch("/{channel_id}")
async def update_channel(
    channel_id: ResourceId,
    data: ChannelUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    request: Request,
    if_match: IfMatch = None,
) -> ChannelRead:
    """Change a channel; `active: false` refuses its messages (409) and holds its replies."""
    channel = await admin.CHANNELS.get_for_write(session, channel_id, if_match)
    await admin.update_channel(session, principal, channel, data, settings=_settings(request))
    admin.CHANNELS.set_etag(response, channel)
    return admin.to_read(channel)


def _files(data: MessageCreate, settings: Settings) -> list[File]:
    files = []
    for n, attachment in enumerate(data.attachments):
        loc = ("body", "attachments", n, "content_base64")
        # Decoded size is about 3/4 of the text: refuse what cannot fit before decoding it.
        if len(attachment.content_base64) * 3 // 4 > settings.max_attachment_bytes + 3:
            raise PayloadTooLarge(
                f"Attachment {n} is larger than {settings.max_attachment_bytes} bytes."
            )
        try:
            content = base64.b64decode(attachment.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput("content_base64 is not valid base64.", loc=loc) from exc
        if len(content) > settings.max_attachment_bytes:
            raise PayloadTooLarge(
                f"Attachment {n} is larger than {settings.max_attachment_bytes} bytes."
            )
        if not content:
            raise InvalidInput("An attachment must not be empty.", loc=loc)
        files.append(File(attachment.filename, attachment.content_type, content))
    return files


@router.post(
    "/{channel_id}/messages",
    status_code=status.HTTP_201_CREATED,
    responses={**_REPLAYED, **problem_responses(status_409="The channel is not active")},
)
async def receive_channel_message(
    data: MessageCreate,
    channel: MessageChannel,
    session: DB,
    request: Request,
    response: Response,
    now: Now,
) -> MessageResult:
    """A customer's message from a chat widget, phone system or social bridge, authenticated
    by the channel's secret (`Authorization: Bearer hdch_…`), not a user's token.

    The sender is found by identity (`sender.kind`, `sender.value`) or becomes a customer;
    the message joins the sender's open conversation on this channel or opens a ticket.
    Safe to retry: the same `external_id` is done once, and a replay answers 200 with the
    first result. Agents' public replies go back to the channel's `webhook_url`
    (`channel.reply`, signed like our webhooks)."""
    settings = _settings(request)
    inbound = Inbound(
        external_id=data.external_id,
        kind=data.sender.kind,
        value=data.sender.value,
        name=data.name,
        text=data.text,
        files=_files(data, settings),
    )
    received = await receive(session, channel, inbound, settings=settings, now=now)
    if received.duplicate:
        response.status_code = status.HTTP_200_OK
    return received.result()


@router.post(
    "/telegram/{channel_id}/webhook",
    responses=problem_responses(status_409="The channel is not active"),
)
async def receive_telegram_update(
    update: TelegramUpdate, channel: TelegramChannel, session: DB, request: Request, now: Now
) -> MessageResult:
    """Telegram's webhook for the channel's bot (setWebhook with `secret_token` = the
    channel's secret, sent back as `X-Telegram-Bot-Api-Secret-Token`). Each update is done
    once by `update_id`; updates that are not a user's message are acknowledged and ignored.
    Replies go out through the Bot API's `sendMessage`, by the worker, with retries."""
    inbound = to_inbound(update)
    if inbound is None:
        placeholder = Inbound(external_id(update), IdentityKind.telegram, "-", None, "")
        return (await ignore(session, channel, placeholder, now)).result()
    received = await receive(session, channel, inbound, settings=_settings(request), now=now)
    return received.result()


@router.post(
    "/alertmanager/{channel_id}",
    responses=problem_responses(status_409="The channel is not active"),
)
async def receive_alertmanager_notification(
    payload: AlertmanagerPayload, channel: AlertmanagerChannel, session: DB, now: Now
) -> AlertResult:
    """Prometheus Alertmanager's webhook (payload version 4), with the channel's secret as
    `http_config.authorization.credentials`. One ticket per `groupKey`: later notifications
    add private notes; when every alert of the group is resolved the ticket is solved
    (`alert_solve_when_resolved`). Common labels become tags, `severity` the priority."""
    return await receive_alerts(session, channel, payload, now)

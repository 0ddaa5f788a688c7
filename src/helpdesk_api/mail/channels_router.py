from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import Response as RawResponse
from sqlalchemy import select

from helpdesk_api.core.auth import Admin
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.errors import Conflict, UnsupportedMediaType, problem_responses
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit, SortKey, paginate
from helpdesk_api.core.params import ResourceId
from helpdesk_api.core.settings import Settings
from helpdesk_api.mail import channels, quarantine
from helpdesk_api.mail.channel_schemas import (
    EmailChannelCreate,
    EmailChannelPage,
    EmailChannelRead,
    EmailChannelUpdate,
    InboundEmailPage,
    InboundEmailRead,
    InboundResult,
)
from helpdesk_api.mail.intake import receive
from helpdesk_api.models import EmailChannel, InboundEmail, InboundSource, InboundStatus

router = APIRouter(
    prefix="/v1/email-channels", tags=["email-channels"], route_class=TransactionalRoute
)

_RAW_MESSAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The whole message as it arrived (headers and body, RFC 5322), as "
        "inbound-mail providers forward it.",
        "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_RAW_MESSAGE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The message exactly as it was received.",
        "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("")
async def list_email_channels(
    session: DB, principal: Admin, limit: Limit = 50, cursor: Cursor = None
) -> EmailChannelPage:
    rows, next_cursor = await paginate(
        session,
        select(EmailChannel),
        keys=[SortKey(EmailChannel.id, lambda c: c.id)],
        limit=limit,
        cursor=cursor,
    )
    return EmailChannelPage(data=[channels.to_read(c) for c in rows], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_email_channel(
    data: EmailChannelCreate, session: DB, principal: Admin, response: Response
) -> EmailChannelRead:
    """Add a support address. Mail reaches it through `helpdesk-api smtp`, IMAP polling
    (`imap_host`), or `POST /v1/email-channels/{id}/inbound`."""
    channel = await channels.create_channel(session, principal, data)
    channels.CHANNELS.set_created(response, channel)
    return channels.to_read(channel)


@router.get("/{channel_id}")
async def get_email_channel(
    channel_id: ResourceId, session: DB, principal: Admin, response: Response
) -> EmailChannelRead:
    channel = await channels.CHANNELS.get(session, channel_id)
    channels.CHANNELS.set_etag(response, channel)
    return channels.to_read(channel)


@router.patch("/{channel_id}")
async def update_email_channel(
    channel_id: ResourceId,
    data: EmailChannelUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> EmailChannelRead:
    """Change a mailbox; `active: false` stops its intake (SMTP refuses it, IMAP is not polled)."""
    channel = await channels.CHANNELS.get_for_write(session, channel_id, if_match)
    await channels.update_channel(session, principal, channel, data)
    channels.CHANNELS.set_etag(response, channel)
    return channels.to_read(channel)


@router.post(
    "/{channel_id}/inbound",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=_RAW_MESSAGE_BODY,
    responses=problem_responses(status_415="The body is not message/rfc822"),
)
async def receive_inbound_email(
    channel_id: ResourceId, request: Request, session: DB, principal: Admin, now: Now
) -> InboundResult:
    """Deliver one raw message to the mailbox, as an inbound-mail provider would.

    Safe to retry: the same Message-ID is never processed twice (`duplicate: true`). A message
    that cannot be processed is still kept (`status: failed`) and listed under `/failed`.
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "message/rfc822":
        raise UnsupportedMediaType("Send the raw message with Content-Type: message/rfc822.")
    channel = await channels.CHANNELS.get(session, channel_id)
    if not channel.is_active:
        raise Conflict(f"Mailbox {channel_id} is not active.")
    raw = await request.body()
    received = await receive(
        session,
        raw=raw,
        source=InboundSource.api,
        channel=channel,
        settings=_settings(request),
        now=now,
    )
    read = quarantine.to_read(received.email)
    return InboundResult(**read.model_dump(), duplicate=received.duplicate)


@router.get("/{channel_id}/failed")
async def list_failed_inbound_emails(
    channel_id: ResourceId, session: DB, principal: Admin, limit: Limit = 50, cursor: Cursor = None
) -> InboundEmailPage:
    """Messages that could not be processed, with their errors, oldest first."""
    channel = await channels.CHANNELS.get(session, channel_id)
    rows, next_cursor = await paginate(
        session,
        select(InboundEmail).where(
            InboundEmail.channel_id == channel.id, InboundEmail.status == InboundStatus.failed
        ),
        keys=[SortKey(InboundEmail.id, lambda e: e.id)],
        limit=limit,
        cursor=cursor,
    )
    return InboundEmailPage(data=[quarantine.to_read(e) for e in rows], next_cursor=next_cursor)


@router.get("/{channel_id}/inbound/{email_id}")
async def get_inbound_email(
    channel_id: ResourceId, email_id: ResourceId, session: DB, principal: Admin
) -> InboundEmailRead:
    channel = await channels.CHANNELS.get(session, channel_id)
    return quarantine.to_read(await quarantine.get_inbound(session, channel, email_id))


@router.get(
    "/{channel_id}/inbound/{email_id}/raw",
    response_class=RawResponse,
    responses=_RAW_MESSAGE_RESPONSE,
)
async def get_inbound_email_raw(
    channel_id: ResourceId, email_id: ResourceId, session: DB, principal: Admin
) -> RawResponse:
    """The stored message, byte for byte."""
    channel = await channels.CHANNELS.get(session, channel_id)
    email = await quarantine.get_inbound(session, channel, email_id, for_update=False)
    raw = await session.scalar(select(InboundEmail.raw).where(InboundEmail.id == email.id))
    return RawResponse(
        content=raw or b"",
        media_type="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="message-{email.id}.eml"'},
    )


@router.post("/{channel_id}/failed/{email_id}/retry")
async def retry_failed_inbound_email(
    channel_id: ResourceId,
    email_id: ResourceId,
    session: DB,
    principal: Admin,
    request: Request,
    now: Now,
) -> InboundEmailRead:
    """Process a quarantined message again; it stays failed (with the new error) if it still
    cannot be processed."""
    channel = await channels.CHANNELS.get(session, channel_id)
    email = await quarantine.retry(session, channel, email_id, settings=_settings(request), now=now)
    return quarantine.to_read(email)


@router.post("/{channel_id}/failed/{email_id}/discard")
async def discard_failed_inbound_email(
    channel_id: ResourceId, email_id: ResourceId, session: DB, principal: Admin
) -> InboundEmailRead:
    """Stop listing a quarantined message; the raw message is kept."""
    channel = await channels.CHANNELS.get(session, channel_id)
    return quarantine.to_read(await quarantine.discard(session, channel, email_id))

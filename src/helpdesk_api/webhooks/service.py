"""Webhook endpoints: registration, secrets, manual redelivery and ping. Never commits."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import NotFound
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.resource import AdminResource, field_changes, touch
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import Webhook, WebhookAttempt, WebhookDelivery
from helpdesk_api.webhooks.schemas import (
    AttemptRead,
    DeliveryRead,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
)
from helpdesk_api.webhooks.signing import new_secret
from helpdesk_api.webhooks.ssrf import check_webhook_url

WEBHOOKS = AdminResource("webhook", "/v1/webhooks", Webhook, "Webhook")
_FIELDS = ("url", "events", "description", "active", "disabled_reason")


def redact_url(url: str) -> str:
    """The URL as events show it: credentials and query values often carry secrets (a
    receiver's token), so ``user:password@`` goes and each query value becomes ``redacted``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = urlencode(
        [(key, "redacted") for key, _ in parse_qsl(parts.query, keep_blank_values=True)]
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _for_event(read: dict[str, Any]) -> dict[str, Any]:
    return {**read, "url": redact_url(read["url"])}


def to_read(webhook: Webhook) -> WebhookRead:
    return WebhookRead(
        id=webhook.id,
        url=webhook.url,
        events=list(webhook.events),
        description=webhook.description,
        active=webhook.is_active,
        disabled_reason=webhook.disabled_reason,
        created_at=webhook.created_at,
        updated_at=webhook.updated_at,
    )


def payload_bytes(event_type: str, timestamp: datetime, data: dict[str, Any]) -> bytes:
    body = {"type": event_type, "timestamp": timestamp.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


async def get_webhook(
    session: AsyncSession, webhook_id: int, *, for_update: bool = False
) -> Webhook:
    return await WEBHOOKS.get(session, webhook_id, for_update=for_update)


async def create_webhook(
    session: AsyncSession, principal: Principal, data: WebhookCreate, settings: Settings
) -> Webhook:
    url = str(data.url)
    await check_webhook_url(url, allow_private=settings.webhook_allow_private)
    # The clock, not the transaction's now(): later than every event of this transaction,
    # so the endpoint receives none of them (its own webhook.created included).
    now = datetime.now(UTC)
    webhook = Webhook(
        url=url,
        events=sorted(set(data.events)),
        description=data.description,
        is_active=data.active,
        secret=new_secret(),
        created_by=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(webhook)
    await session.flush()
    await WEBHOOKS.record_created(
        session,
        actor_id=principal.user_id,
        read=to_read(webhook).model_copy(update={"url": redact_url(webhook.url)}),
    )
    return webhook


async def update_webhook(
    session: AsyncSession,
    principal: Principal,
    webhook: Webhook,
    data: WebhookUpdate,
    settings: Settings,
) -> Webhook:
    fields = data.model_fields_set
    before = to_read(webhook).model_dump(mode="json")
    if "url" in fields:
        await check_webhook_url(str(data.url), allow_private=settings.webhook_allow_private)
        webhook.url = str(data.url)
    if "events" in fields:
        webhook.events = sorted(set(data.events))
    if "description" in fields:
        webhook.description = data.description
    if "active" in fields:
        webhook.is_active = data.active
        if data.active:
            webhook.disabled_reason = None
    touch(webhook)
    await session.flush()
    await session.refresh(webhook)
    after = to_read(webhook).model_dump(mode="json")
    changes = [
        {**c, "from": redact_url(c["from"]), "to": redact_url(c["to"])}
        if c["field"] == "url"
        else c
        for c in field_changes(before, after, fields=_FIELDS)
    ]
    await WEBHOOKS.record_updated(
        session,
        actor_id=principal.user_id,
        resource_id=webhook.id,
        changes=changes,
        webhook=_for_event(after),
    )
    return webhook


async def rotate_secret(
    session: AsyncSession, principal: Principal, webhook: Webhook, settings: Settings
) -> tuple[str, datetime]:
    expires = datetime.now(UTC) + timedelta(hours=settings.webhook_secret_overlap_hours)
    webhook.previous_secret = webhook.secret
    webhook.previous_secret_expires_at = expires
    webhook.secret = new_secret()
    touch(webhook)
    await session.flush()
    await record_event(
        session,
        EventType.webhook_secret_rotated,
        actor_id=principal.user_id,
        data={"webhook_id": webhook.id},
    )
    return webhook.secret, expires


async def enqueue_ping(
    session: AsyncSession, principal: Principal, webhook: Webhook
) -> WebhookDelivery:
    now = datetime.now(UTC)
    delivery = WebhookDelivery(
        webhook_id=webhook.id,
        event_id=None,
        msg_id=f"msg_ping_{uuid.uuid4().hex}",
        event_type=EventType.webhook_ping.value,
        payload=payload_bytes(EventType.webhook_ping, now, {"webhook_id": webhook.id}),
        next_attempt_at=now,
    )
    session.add(delivery)
    await session.flush()
    await session.refresh(delivery)
    return delivery


async def redeliver(session: AsyncSession, webhook: Webhook, delivery_id: int) -> WebhookDelivery:
    """Send the same message again (same webhook-id), now, whatever its state."""
    delivery = await session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook.id)
        .with_for_update()
    )
    if delivery is None:
        raise NotFound(f"Webhook {webhook.id} has no delivery {delivery_id}.")
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(
            status="pending",
            next_attempt_at=datetime.now(UTC),
            claimed_until=None,
            finished_at=None,
        )
    )
    await session.refresh(delivery)
    return delivery


async def delivery_reads(
    session: AsyncSession, deliveries: list[WebhookDelivery]
) -> list[DeliveryRead]:
    ids = [d.id for d in deliveries]
    attempts: dict[int, list[AttemptRead]] = {i: [] for i in ids}
    if ids:
        rows = await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(ids))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.id)
        )
        for row in rows:
            attempts[row.delivery_id].append(
                AttemptRead(
                    attempted_at=row.attempted_at,
                    status_code=row.status_code,
                    error=row.error,
                    duration_ms=row.duration_ms,
                    response_body=row.response_body,
                )
            )
    unfinished = ("pending", "delivering")
    return [
        DeliveryRead(
            id=d.id,
            msg_id=d.msg_id,
            event_id=d.event_id,
            event_type=d.event_type,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status in unfinished else None,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            finished_at=d.finished_at,
            attempt_log=attempts[d.id],
        )
        for d in deliveries
    ]

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import select

from helpdesk_api.core.auth import Admin
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit, SortKey, paginate
from helpdesk_api.core.params import ResourceId
from helpdesk_api.core.settings import Settings
from helpdesk_api.models import Webhook, WebhookDelivery
from helpdesk_api.webhooks import service
from helpdesk_api.webhooks.schemas import (
    DeliveryPage,
    DeliveryRead,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], route_class=TransactionalRoute)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("")
async def list_webhooks(
    session: DB, principal: Admin, limit: Limit = 50, cursor: Cursor = None
) -> WebhookPage:
    rows, next_cursor = await paginate(
        session,
        select(Webhook),
        keys=[SortKey(Webhook.id, lambda w: w.id)],
        limit=limit,
        cursor=cursor,
    )
    return WebhookPage(data=[service.to_read(w) for w in rows], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_webhook(
    data: WebhookCreate, session: DB, principal: Admin, request: Request, response: Response
) -> WebhookCreated:
    """Register an endpoint. The response carries its signing `secret`, shown only here."""
    webhook = await service.create_webhook(session, principal, data, _settings(request))
    service.WEBHOOKS.set_created(response, webhook)
    return WebhookCreated(**service.to_read(webhook).model_dump(), secret=webhook.secret)


@router.get("/{webhook_id}")
async def get_webhook(
    webhook_id: ResourceId, session: DB, principal: Admin, response: Response
) -> WebhookRead:
    webhook = await service.get_webhook(session, webhook_id)
    service.WEBHOOKS.set_etag(response, webhook)
    return service.to_read(webhook)


@router.patch("/{webhook_id}")
async def update_webhook(
    webhook_id: ResourceId,
    data: WebhookUpdate,
    session: DB,
    principal: Admin,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> WebhookRead:
    """Change the endpoint; `active: true` re-enables one that was disabled after failures."""
    webhook = await service.WEBHOOKS.get_for_write(session, webhook_id, if_match)
    await service.update_webhook(session, principal, webhook, data, _settings(request))
    service.WEBHOOKS.set_etag(response, webhook)
    return service.to_read(webhook)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    webhook_id: ResourceId, session: DB, principal: Admin, if_match: IfMatch = None
) -> None:
    webhook = await service.WEBHOOKS.get_for_write(session, webhook_id, if_match)
    await session.delete(webhook)


@router.post("/{webhook_id}/rotate-secret")
async def rotate_webhook_secret(
    webhook_id: ResourceId, session: DB, principal: Admin, request: Request
) -> SecretRotated:
    """A new secret; until `previous_secret_expires_at` deliveries carry both signatures."""
    webhook = await service.get_webhook(session, webhook_id, for_update=True)
    secret, expires = await service.rotate_secret(session, principal, webhook, _settings(request))
    return SecretRotated(secret=secret, previous_secret_expires_at=expires)


@router.get("/{webhook_id}/deliveries")
async def list_webhook_deliveries(
    webhook_id: ResourceId, session: DB, principal: Admin, limit: Limit = 50, cursor: Cursor = None
) -> DeliveryPage:
    """Newest first, each with its attempts: status, duration, the first 4 KiB of the reply."""
    await service.get_webhook(session, webhook_id)
    rows, next_cursor = await paginate(
        session,
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id),
        keys=[SortKey(WebhookDelivery.id, lambda d: d.id, descending=True)],
        limit=limit,
        cursor=cursor,
    )
    return DeliveryPage(data=await service.delivery_reads(session, rows), next_cursor=next_cursor)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED
)
async def redeliver_webhook_delivery(
    webhook_id: ResourceId, delivery_id: ResourceId, session: DB, principal: Admin
) -> DeliveryRead:
    webhook = await service.get_webhook(session, webhook_id)
    delivery = await service.redeliver(session, webhook, delivery_id)
    return (await service.delivery_reads(session, [delivery]))[0]


@router.post("/{webhook_id}/ping", status_code=status.HTTP_202_ACCEPTED)
async def ping_webhook(webhook_id: ResourceId, session: DB, principal: Admin) -> DeliveryRead:
    """Queue a signed `webhook.ping` to the endpoint; watch it in the delivery log."""
    webhook = await service.get_webhook(session, webhook_id)
    delivery = await service.enqueue_ping(session, principal, webhook)
    return (await service.delivery_reads(session, [delivery]))[0]

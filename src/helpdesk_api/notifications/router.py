from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from helpdesk_api.core.auth import Admin
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.settings import Settings
from helpdesk_api.notifications import preview, service
from helpdesk_api.notifications.events import NotificationEvent
from helpdesk_api.notifications.locales import LOCALE_MAX_LENGTH, LOCALE_PATTERN
from helpdesk_api.notifications.schemas import (
    NotificationPreview,
    NotificationPreviewRequest,
    NotificationTemplatePage,
    NotificationTemplateRead,
    NotificationTemplateWrite,
)

router = APIRouter(
    prefix="/v1/notification-templates",
    tags=["notification-templates"],
    route_class=TransactionalRoute,
)

Locale = Annotated[
    str,
    Path(
        pattern=LOCALE_PATTERN,
        max_length=LOCALE_MAX_LENGTH,
        description="A BCP 47 language tag (`it`, `pt-BR`); case does not matter.",
        examples=["it"],
    ),
]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("")
async def list_notification_templates(
    session: DB,
    principal: Admin,
    event: NotificationEvent | None = None,
    customised: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> NotificationTemplatePage:
    """Every notification in every locale that has built-in wording or an admin's, with
    the wording that applies; ordered by event, then locale."""
    return await service.list_templates(
        session, event=event, customised=customised, limit=limit, cursor=cursor
    )


@router.get("/{event}/{locale}")
async def get_notification_template(
    event: NotificationEvent, locale: Locale, session: DB, principal: Admin, response: Response
) -> NotificationTemplateRead:
    """The wording that applies to this event and locale: the admin's, else the built-in
    one, else that of the locale's language, else English."""
    view = await service.get_template(session, event, locale)
    response.headers["ETag"] = view.etag
    return view.read


@router.put("/{event}/{locale}")
async def replace_notification_template(
    event: NotificationEvent,
    locale: Locale,
    data: NotificationTemplateWrite,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> NotificationTemplateRead:
    """Write the wording for this event and locale. The templates are Jinja, checked
    against a sample context before they are saved: a syntax error, an unknown variable or
    filter, or anything the sandbox refuses is a 422 naming the part and the line. A
    customer notice's subject must keep `[#{{ ticket.id }}]`."""
    view = await service.replace_template(session, principal, event, locale, data, if_match)
    response.headers["ETag"] = view.etag
    return view.read


@router.delete("/{event}/{locale}", status_code=status.HTTP_204_NO_CONTENT)
async def reset_notification_template(
    event: NotificationEvent,
    locale: Locale,
    session: DB,
    principal: Admin,
    if_match: IfMatch = None,
) -> None:
    """Remove the admin's wording: the built-in one applies again. 204 also when there was
    none."""
    await service.reset_template(session, principal, event, locale, if_match)


@router.post("/{event}/{locale}/preview")
async def preview_notification_template(
    event: NotificationEvent,
    locale: Locale,
    data: NotificationPreviewRequest,
    session: DB,
    principal: Admin,
    request: Request,
) -> NotificationPreview:
    """Render the notification as it would be sent, about a sample ticket or `ticket_id`;
    parts given in the body preview a draft without saving it."""
    return await preview.preview_template(
        session, principal, _settings(request), event, locale, data
    )

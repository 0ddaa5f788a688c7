from fastapi import APIRouter

from helpdesk_api.core.auth import Staff
from helpdesk_api.core.db import TransactionalRoute
from helpdesk_api.core.openapi import WEBHOOK_SOURCES
from helpdesk_api.event_catalogue.catalogue import EventTypeList, event_type_list
from helpdesk_api.event_catalogue.webhooks import webhook_docs

router = APIRouter(prefix="/v1", tags=["events"], route_class=TransactionalRoute)
# The webhook messages join the OpenAPI document with the catalogue that describes them.
WEBHOOK_SOURCES.append(webhook_docs)


@router.get("/event-types")
async def list_event_types(principal: Staff) -> EventTypeList:
    """Every event type: what it means, whether customers receive it, and the JSON Schema of
    its `data`. The same models describe webhook messages (OpenAPI `webhooks`)."""
    return event_type_list()

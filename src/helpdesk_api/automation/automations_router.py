from fastapi import APIRouter, Response, status

from helpdesk_api.automation import automations_service as service
from helpdesk_api.automation.automations_schemas import (
    AutomationCreate,
    AutomationPage,
    AutomationRead,
    AutomationUpdate,
)
from helpdesk_api.core.auth import Admin, Staff
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId

router = APIRouter(prefix="/v1", tags=["automations"], route_class=TransactionalRoute)

AUTOMATIONS = service.AUTOMATIONS


@router.get("/automations")
async def list_automations(
    session: DB,
    principal: Staff,
    active: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AutomationPage:
    """In the order the worker runs them: by position, then id. Staff may read them (an
    audit names the automation that changed a ticket); only admins write them."""
    return await service.list_automations(session, active=active, limit=limit, cursor=cursor)


@router.post("/automations", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_automation(
    data: AutomationCreate, session: DB, principal: Admin, response: Response
) -> AutomationRead:
    """The worker looks every minute for tickets whose conditions hold and acts on each at
    most once per matching period. Validated when saved (422 with the path of the bad
    part): unknown fields, operators or values; conditions only a change has; an action on
    a deleted or inactive status, group, agent or webhook; wording that does not render; no
    time condition bounding the tickets looked at; and, as in Zendesk, a rule none of whose
    actions undoes one of its `all` conditions."""
    created = await service.create_automation(session, principal, data)
    AUTOMATIONS.set_created(response, created)
    return service.to_read(created)


@router.get("/automations/{automation_id}")
async def get_automation(
    automation_id: ResourceId, session: DB, principal: Staff, response: Response
) -> AutomationRead:
    found = await AUTOMATIONS.get(session, automation_id)
    AUTOMATIONS.set_etag(response, found)
    return service.to_read(found)


@router.patch("/automations/{automation_id}")
async def update_automation(
    automation_id: ResourceId,
    data: AutomationUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> AutomationRead:
    found = await AUTOMATIONS.get_for_write(session, automation_id, if_match)
    updated = await service.update_automation(session, principal, found, data)
    AUTOMATIONS.set_etag(response, updated)
    return service.to_read(updated)


@router.delete("/automations/{automation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_automation(
    automation_id: ResourceId, session: DB, principal: Admin, if_match: IfMatch = None
) -> None:
    found = await AUTOMATIONS.get_for_write(session, automation_id, if_match)
    await service.delete_automation(session, principal, found)

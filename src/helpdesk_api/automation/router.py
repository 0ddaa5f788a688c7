from fastapi import APIRouter, Response, status

from helpdesk_api.automation import service
from helpdesk_api.automation.dry_run import dry_run
from helpdesk_api.automation.schemas import (
    DryRunRequest,
    DryRunResult,
    TriggerCreate,
    TriggerOrder,
    TriggerPage,
    TriggerRead,
    TriggerUpdate,
)
from helpdesk_api.automation.store import load_active
from helpdesk_api.core.auth import Admin
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId

router = APIRouter(prefix="/v1", tags=["triggers"], route_class=TransactionalRoute)

TRIGGERS = service.TRIGGERS


@router.get("/triggers")
async def list_triggers(
    session: DB,
    principal: Admin,
    active: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TriggerPage:
    """In firing order: by position, then id."""
    return await service.list_triggers(session, active=active, limit=limit, cursor=cursor)


@router.post("/triggers", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_trigger(
    data: TriggerCreate, session: DB, principal: Admin, response: Response
) -> TriggerRead:
    """Validated when saved: an unknown field, operator or value, an action on a deleted or
    inactive status, group, agent or webhook, or wording that does not render is a 422
    whose `errors[].loc` points at the bad part."""
    created = await service.create_trigger(session, principal, data)
    TRIGGERS.set_created(response, created)
    return service.to_read(created)


@router.put("/triggers/order", status_code=status.HTTP_204_NO_CONTENT)
async def reorder_triggers(data: TriggerOrder, session: DB, principal: Admin) -> None:
    """Sets every trigger's position at once (0, 1, 2… in the order given)."""
    await service.reorder_triggers(session, principal, data)


@router.post("/triggers/dry-run")
async def dry_run_triggers(
    data: DryRunRequest, session: DB, principal: Admin, now: Now
) -> DryRunResult:
    """What the active triggers (and the inactive ones, with `include_inactive`) would do
    to a ticket for a change (by default an update that changes nothing), and why: every
    trigger in firing order with each condition's expected and actual value, and the
    changes it would make. Changes nothing."""
    triggers = await load_active(session, include_inactive=data.include_inactive)
    active = {t.id for t in await load_active(session)} if data.include_inactive else None
    return await dry_run(session, data, triggers, now, active=active)


@router.get("/triggers/{trigger_id}")
async def get_trigger(
    trigger_id: ResourceId, session: DB, principal: Admin, response: Response
) -> TriggerRead:
    found = await TRIGGERS.get(session, trigger_id)
    TRIGGERS.set_etag(response, found)
    return service.to_read(found)


@router.patch("/triggers/{trigger_id}")
async def update_trigger(
    trigger_id: ResourceId,
    data: TriggerUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> TriggerRead:
    found = await TRIGGERS.get_for_write(session, trigger_id, if_match)
    updated = await service.update_trigger(session, principal, found, data)
    TRIGGERS.set_etag(response, updated)
    return service.to_read(updated)


@router.delete("/triggers/{trigger_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_trigger(
    trigger_id: ResourceId, session: DB, principal: Admin, if_match: IfMatch = None
) -> None:
    found = await TRIGGERS.get_for_write(session, trigger_id, if_match)
    await service.delete_trigger(session, principal, found)

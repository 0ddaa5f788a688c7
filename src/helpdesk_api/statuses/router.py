from fastapi import APIRouter, Response, status

from helpdesk_api.core.auth import Admin, Authenticated, Staff
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.models import StatusCategory
from helpdesk_api.statuses import matrix, service
from helpdesk_api.statuses.schemas import (
    PriorityMatrix,
    StatusCreate,
    StatusPage,
    StatusRead,
    StatusUpdate,
    StatusView,
)

router = APIRouter(prefix="/v1", tags=["ticket-statuses"], route_class=TransactionalRoute)

StatusId = ResourceId


@router.get("/ticket-statuses")
async def list_ticket_statuses(
    session: DB,
    principal: Authenticated,
    category: StatusCategory | None = None,
    active: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> StatusPage:
    """Ordered by position, then id. Customers get only `id`, `category` and their `label`."""
    return await service.list_statuses(
        session, principal, category=category, active=active, limit=limit, cursor=cursor
    )


@router.post("/ticket-statuses", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_ticket_status(
    data: StatusCreate, session: DB, principal: Admin, response: Response
) -> StatusRead:
    created = await service.create_status(session, principal, data)
    service.STATUSES.set_created(response, created)
    return service.to_read(created)


@router.get("/ticket-statuses/{status_id}")
async def get_ticket_status(
    status_id: StatusId, session: DB, principal: Authenticated, response: Response
) -> StatusView:
    """Customers get only `id`, `category` and their `label`."""
    found = await service.get_status(session, status_id)
    service.STATUSES.set_etag(response, found)
    return service.present(found, principal)


@router.patch("/ticket-statuses/{status_id}")
async def update_ticket_status(
    status_id: StatusId,
    data: StatusUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> StatusRead:
    found = await service.STATUSES.get_for_write(session, status_id, if_match)
    updated = await service.update_status(session, principal, found, data)
    service.STATUSES.set_etag(response, updated)
    return service.to_read(updated)


@router.delete(
    "/ticket-statuses/{status_id}",
    response_model=StatusRead,
    responses={
        200: {"description": "Tickets use the status, so it was deactivated instead"},
        204: {"description": "Deleted"},
    },
)
async def delete_ticket_status(
    status_id: StatusId,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> StatusRead | Response:
    """Deletes a status no ticket uses (204). A status that any ticket uses is deactivated
    instead, so those tickets keep a meaningful status: the answer is 200 with the status,
    `is_active` false. The default of a category cannot be deleted (422)."""
    found = await service.STATUSES.get_for_write(session, status_id, if_match)
    kept = await service.delete_status(session, principal, found)
    if kept is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    service.STATUSES.set_etag(response, kept)
    return service.to_read(kept)


@router.get("/priority-matrix")
async def get_priority_matrix(session: DB, principal: Staff) -> PriorityMatrix:
    """Impact × urgency → priority for tickets that give both; all 9 cells."""
    return await matrix.read_matrix(session)


@router.put("/priority-matrix")
async def replace_priority_matrix(
    data: PriorityMatrix, session: DB, principal: Admin
) -> PriorityMatrix:
    """Replaces the whole matrix: every (impact, urgency) combination exactly once."""
    return await matrix.replace_matrix(session, principal, data)

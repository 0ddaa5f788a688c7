from fastapi import APIRouter, Response, status

from helpdesk_api.core.auth import Admin, Staff
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.groups import service
from helpdesk_api.groups.schemas import GroupCreate, GroupPage, GroupRead, GroupUpdate
from helpdesk_api.users.schemas import UserPage

router = APIRouter(prefix="/v1/groups", tags=["groups"], route_class=TransactionalRoute)


@router.get("")
async def list_groups(
    session: DB,
    principal: Staff,
    is_active: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> GroupPage:
    groups, next_cursor = await service.list_groups(
        session, is_active=is_active, limit=limit, cursor=cursor
    )
    return GroupPage(data=[service.to_read(g) for g in groups], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_group(
    data: GroupCreate, session: DB, principal: Admin, response: Response
) -> GroupRead:
    group = await service.create_group(session, principal, data)
    service.GROUPS.set_created(response, group)
    return service.to_read(group)


@router.get("/{group_id}")
async def get_group(
    group_id: ResourceId, session: DB, principal: Staff, response: Response
) -> GroupRead:
    group = await service.get_group(session, group_id)
    service.GROUPS.set_etag(response, group)
    return service.to_read(group)


@router.patch("/{group_id}")
async def update_group(
    group_id: ResourceId,
    data: GroupUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> GroupRead:
    group = await service.GROUPS.get_for_write(session, group_id, if_match)
    updated = await service.update_group(session, principal, group, data)
    service.GROUPS.set_etag(response, updated)
    return service.to_read(updated)


@router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def deactivate_group(
    group_id: ResourceId, session: DB, principal: Admin, if_match: IfMatch = None
) -> None:
    """Deactivates the group (tickets keep naming it); its members are kept.
    PATCH `is_active: true` brings it back."""
    group = await service.GROUPS.get_for_write(session, group_id, if_match)
    await service.update_group(session, principal, group, GroupUpdate(is_active=False))


@router.get("/{group_id}/members")
async def list_group_members(
    group_id: ResourceId,
    session: DB,
    principal: Staff,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> UserPage:
    members, next_cursor = await service.list_members(session, group_id, limit=limit, cursor=cursor)
    return UserPage(data=members, next_cursor=next_cursor)


@router.put("/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def add_group_member(
    group_id: ResourceId, user_id: ResourceId, session: DB, principal: Admin
) -> None:
    """Adds a staff user to the group; adding an existing member again is a no-op.
    An unknown or non-staff user is 422 at `["path", "user_id"]`."""
    await service.add_member(session, principal, group_id, user_id)


@router.delete("/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_group_member(
    group_id: ResourceId, user_id: ResourceId, session: DB, principal: Admin
) -> None:
    """Removes the user from the group; 404 if they are not a member."""
    await service.remove_member(session, principal, group_id, user_id)

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from helpdesk_api.core.auth import Admin, Authenticated, Staff
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.organizations import service
from helpdesk_api.organizations.dependencies import OrganizationId, VisibleOrganization
from helpdesk_api.organizations.schemas import (
    OrganizationCreate,
    OrganizationPage,
    OrganizationRead,
    OrganizationUpdate,
)
from helpdesk_api.users.schemas import UserPage

router = APIRouter(
    prefix="/v1/organizations", tags=["organizations"], route_class=TransactionalRoute
)


@router.get("")
async def list_organizations(
    session: DB,
    principal: Staff,
    q: Annotated[
        str | None, Query(max_length=200, description="Name prefix, case-insensitive.")
    ] = None,
    tag: Annotated[str | None, Query(max_length=200)] = None,
    external_id: Annotated[str | None, Query(max_length=255)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> OrganizationPage:
    organizations, next_cursor = await service.list_organizations(
        session, q=q, tag=tag, external_id=external_id, limit=limit, cursor=cursor
    )
    return OrganizationPage(
        data=[service.to_read(o) for o in organizations], next_cursor=next_cursor
    )


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_organization(
    data: OrganizationCreate, session: DB, principal: Admin, response: Response
) -> OrganizationRead:
    organization = await service.create_organization(session, principal, data)
    service.ORGANIZATIONS.set_created(response, organization)
    return service.to_read(organization)


@router.get("/{organization_id}")
async def get_organization(
    organization: VisibleOrganization, session: DB, principal: Authenticated, response: Response
) -> OrganizationRead:
    """Staff read any organisation; a customer reads only their own, without `notes`."""
    service.ORGANIZATIONS.set_etag(response, organization)
    return await service.present(session, organization, staff=principal.is_staff)


@router.patch("/{organization_id}")
async def update_organization(
    organization_id: OrganizationId,
    data: OrganizationUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> OrganizationRead:
    organization = await service.ORGANIZATIONS.get_for_write(session, organization_id, if_match)
    updated = await service.update_organization(session, principal, organization, data)
    service.ORGANIZATIONS.set_etag(response, updated)
    return service.to_read(updated)


@router.delete("/{organization_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_organization(
    organization_id: OrganizationId, session: DB, principal: Admin, if_match: IfMatch = None
) -> None:
    """Deletes the organisation; its members stay, without an organisation.
    Refused with 409 while tickets reference it: they keep the organisation they were opened in.
    """
    organization = await service.ORGANIZATIONS.get_for_write(session, organization_id, if_match)
    await service.delete_organization(session, principal, organization)


@router.get("/{organization_id}/members")
async def list_organization_members(
    organization_id: OrganizationId,
    session: DB,
    principal: Staff,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> UserPage:
    members, next_cursor = await service.list_members(
        session, organization_id, limit=limit, cursor=cursor
    )
    return UserPage(data=members, next_cursor=next_cursor)

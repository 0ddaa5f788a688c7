from typing import Annotated

from fastapi import Depends

from helpdesk_api.core.auth import Authenticated
from helpdesk_api.core.db import DB
from helpdesk_api.core.params import ResourceId
from helpdesk_api.models import Organization
from helpdesk_api.organizations.service import get_visible_organization

OrganizationId = ResourceId


async def _visible_organization(
    organization_id: OrganizationId, session: DB, principal: Authenticated
) -> Organization:
    return await get_visible_organization(session, principal, organization_id)


VisibleOrganization = Annotated[Organization, Depends(_visible_organization)]

from fastapi import APIRouter

from helpdesk_api.core.auth import Staff
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.params import ResourceId
from helpdesk_api.customers.overview import customer_overview
from helpdesk_api.customers.schemas import CustomerOverview

router = APIRouter(prefix="/v1", tags=["users"], route_class=TransactionalRoute)


@router.get("/users/{user_id}/overview")
async def get_customer_overview(
    user_id: ResourceId, session: DB, principal: Staff
) -> CustomerOverview:
    """A customer at a glance (staff): profile and identities, organisation, tickets per
    status category with the open and the latest ones, satisfaction ratings and their
    share of good, first seen and last contact. Lists are capped at 10 and link (`more`)
    to their full list; tickets the caller may not see are left out of every part. A staff
    user has no overview (`404`)."""
    return await customer_overview(session, principal, user_id)

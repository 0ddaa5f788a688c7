from fastapi import APIRouter

from helpdesk_api.core.auth import Agent
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.routing.availability import set_availability
from helpdesk_api.users.schemas import AvailabilityRead, AvailabilityUpdate

router = APIRouter(prefix="/v1", tags=["routing"], route_class=TransactionalRoute)


@router.put("/me/availability")
async def set_my_availability(
    data: AvailabilityUpdate, session: DB, principal: Agent
) -> AvailabilityRead:
    """Agents and admins say whether they take routed work: `online` does, `away` and
    `offline` do not (in groups that respect availability). Tickets already assigned stay."""
    user = await set_availability(session, principal, data.availability)
    return AvailabilityRead(
        availability=user.availability, availability_changed_at=user.availability_changed_at
    )

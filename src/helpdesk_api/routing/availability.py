"""An agent's availability, as they set it themselves."""

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.models import Availability, User
from helpdesk_api.users import service as users_service
from helpdesk_api.users.schemas import UserUpdate


async def set_availability(
    session: AsyncSession, principal: Principal, availability: Availability
) -> User:
    """Like an admin's ``PATCH /v1/users/{id}`` of the field: ``user.updated`` when it
    changes, nothing when it does not."""
    user = await users_service.get_user(session, principal.user_id, for_update=True)
    return await users_service.update_user(
        session, principal, user, UserUpdate(availability=availability)
    )

"""Finding the customer a ticket is for, creating them on first contact."""

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden
from helpdesk_api.models import User
from helpdesk_api.tickets.references import check_requester
from helpdesk_api.tickets.schemas import TicketCreate
from helpdesk_api.users.service import find_or_create_customer, get_user


async def resolve_requester(
    session: AsyncSession, principal: Principal, data: TicketCreate
) -> User:
    if not principal.is_staff:
        if (data.requester_id not in (None, principal.user_id)) or data.requester is not None:
            raise Forbidden("Customers open tickets for themselves only.")
        return await get_user(session, principal.user_id)
    if data.requester_id is not None:
        return await check_requester(session, data.requester_id)
    if data.requester is not None:
        email = data.requester.email
        return await find_or_create_customer(
            session, email, data.requester.name or email.split("@", 1)[0], actor=principal
        )
    return await get_user(session, principal.user_id)

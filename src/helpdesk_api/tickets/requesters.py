"""Finding the customer a ticket is for, creating them on first contact."""

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, Forbidden
from helpdesk_api.models import IdentityKind, Role, User
from helpdesk_api.tickets.references import check_requester
from helpdesk_api.tickets.schemas import TicketCreate
from helpdesk_api.users.schemas import UserCreate
from helpdesk_api.users.service import create_user, find_user_by_identity, get_user


async def _find_or_create_by_email(
    session: AsyncSession, principal: Principal, email: str, name: str | None
) -> User:
    existing = await find_user_by_identity(session, IdentityKind.email, email)
    if existing is not None:
        return existing
    display_name = name or email.split("@", 1)[0]
    try:
        # A savepoint: if a concurrent request creates the same customer first, only this
        # attempt is undone and we use theirs.
        async with session.begin_nested():
            return await create_user(
                session, principal, UserCreate(name=display_name, email=email, role=Role.customer)
            )
    except Conflict:
        found = await find_user_by_identity(session, IdentityKind.email, email)
        if found is None:
            raise
        return found


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
        return await _find_or_create_by_email(
            session, principal, data.requester.email, data.requester.name
        )
    return await get_user(session, principal.user_id)

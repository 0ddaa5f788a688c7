from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.errors import InvalidInput, Unauthorized
from helpdesk_api.models import IdentityKind
from helpdesk_api.users.passwords import verify_password
from helpdesk_api.users.service import find_user_by_identity, issue_token


async def login(
    session: AsyncSession, *, email: str, password: str, token_name: str
) -> tuple[int, str]:
    try:
        user = await find_user_by_identity(session, IdentityKind.email, email)
    except InvalidInput:
        user = None  # not an address anyone could have registered: same answer as unknown
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        raise Unauthorized("The e-mail address or the password is wrong.")
    _, token = await issue_token(session, user.id, token_name)
    return user.id, token

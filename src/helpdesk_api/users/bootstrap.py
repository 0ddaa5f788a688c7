"""The first admin: from HELPDESK_BOOTSTRAP_TOKEN, or created and announced on a new database."""

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import hash_token
from helpdesk_api.models import ApiToken, Role, TicketAccess, User
from helpdesk_api.users.schemas import UserCreate
from helpdesk_api.users.service import create_user
from helpdesk_api.users.tokens import issue_token

BOOTSTRAP_EMAIL = "admin@localhost"
# Serialises concurrent first starts against one database.
_BOOTSTRAP_LOCK = 7_301_554_921


def _admin_data(email: str, name: str) -> UserCreate:
    # model_construct: "admin@localhost" is a fine local address that strict e-mail
    # validation would refuse.
    return UserCreate.model_construct(
        name=name,
        email=email,
        role=Role.admin,
        identities=[],
        password=None,
        ticket_access=TicketAccess.all,
        locale=None,
        time_zone=None,
        notes=None,
    )


async def bootstrap(session: AsyncSession, *, bootstrap_token: str | None) -> str | None:
    """Create the first admin if there is none. Returns a newly minted token to show once."""
    await session.execute(select(func.pg_advisory_xact_lock(_BOOTSTRAP_LOCK)))
    has_admin = await session.scalar(
        select(exists().where(User.role == Role.admin, User.is_active.is_(True)))
    )
    if has_admin:
        return None
    if bootstrap_token:
        admin = await create_user(
            session, None, _admin_data(BOOTSTRAP_EMAIL, "Admin"), via="system"
        )
        session.add(
            ApiToken(user_id=admin.id, token_hash=hash_token(bootstrap_token), name="bootstrap")
        )
        await session.flush()
        return None
    has_users = await session.scalar(select(exists().where(User.id.is_not(None))))
    if has_users:
        return None
    admin = await create_user(session, None, _admin_data(BOOTSTRAP_EMAIL, "Admin"), via="system")
    _, token = await issue_token(session, admin.id, "first-admin")
    return token


async def create_admin(session: AsyncSession, *, email: str, name: str) -> str:
    admin = await create_user(session, None, _admin_data(email, name), via="system")
    _, token = await issue_token(session, admin.id, "cli")
    return token

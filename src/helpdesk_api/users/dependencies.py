from typing import Annotated

from fastapi import Depends

from helpdesk_api.core.auth import Authenticated
from helpdesk_api.core.db import DB
from helpdesk_api.core.errors import NotFound
from helpdesk_api.core.params import ResourceId
from helpdesk_api.models import User
from helpdesk_api.users.service import get_user

UserId = ResourceId


async def get_visible_user(user_id: UserId, session: DB, principal: Authenticated) -> User:
    # Customers see only themselves; anything else is "not found", never "forbidden".
    if not principal.is_staff and principal.user_id != user_id:
        raise NotFound(f"User {user_id} does not exist.")
    return await get_user(session, user_id)


VisibleUser = Annotated[User, Depends(get_visible_user)]

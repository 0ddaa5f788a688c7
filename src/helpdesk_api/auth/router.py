from fastapi import APIRouter, status

from helpdesk_api.auth import service
from helpdesk_api.auth.schemas import AccessToken, Credentials
from helpdesk_api.core.auth import Authenticated
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.users.schemas import MeRead
from helpdesk_api.users.service import get_user, to_me

router = APIRouter(prefix="/v1", tags=["auth"], route_class=TransactionalRoute)


@router.post("/auth/token", status_code=status.HTTP_201_CREATED)
async def log_in(data: Credentials, session: DB) -> AccessToken:
    """Exchange an e-mail address and password for a new bearer token."""
    user_id, token = await service.login(
        session, email=data.email, password=data.password, token_name=data.token_name
    )
    return AccessToken(token=token, user_id=user_id)


@router.get("/me")
async def get_me(session: DB, principal: Authenticated) -> MeRead:
    return to_me(await get_user(session, principal.user_id))

from datetime import timedelta

from fastapi import APIRouter, Request, status

from helpdesk_api.auth import service
from helpdesk_api.auth.schemas import AccessToken, Credentials
from helpdesk_api.auth.throttle import ThrottlePolicy
from helpdesk_api.core.auth import Authenticated
from helpdesk_api.core.clock import Now
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.core.settings import Settings
from helpdesk_api.users import tokens
from helpdesk_api.users.schemas import MeRead, TokenPage
from helpdesk_api.users.service import get_user, to_me

router = APIRouter(prefix="/v1", tags=["auth"], route_class=TransactionalRoute)


@router.post("/auth/token", status_code=status.HTTP_201_CREATED)
async def log_in(data: Credentials, session: DB, request: Request, now: Now) -> AccessToken:
    """Exchange an e-mail address and password for a new bearer token.

    Failed attempts are throttled per account and per client address: after a few failures
    in a row further attempts get `429` with `Retry-After`, for twice as long after each
    further failure; a successful login resets the account's count."""
    settings: Settings = request.app.state.settings
    row, token = await service.login(
        session,
        request.app.state.sessionmaker,
        email=data.email,
        password=data.password,
        token_name=data.token_name,
        expires_at=data.expires_at,
        address=request.client.host if request.client else "unknown",
        now=now,
        policy=ThrottlePolicy.from_settings(settings),
        max_lifetime=timedelta(days=settings.token_max_lifetime_days),
    )
    return AccessToken(token=token, user_id=row.user_id, token_id=row.id, expires_at=row.expires_at)


@router.get("/me")
async def get_me(session: DB, principal: Authenticated) -> MeRead:
    return to_me(await get_user(session, principal.user_id))


@router.get("/me/tokens")
async def list_my_tokens(
    session: DB, principal: Authenticated, now: Now, limit: Limit = 50, cursor: Cursor = None
) -> TokenPage:
    """The caller's live tokens (neither revoked nor expired); never a secret or its hash."""
    return await tokens.list_tokens(session, principal.user_id, now=now, limit=limit, cursor=cursor)


@router.delete("/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_my_token(
    token_id: ResourceId, session: DB, principal: Authenticated, now: Now
) -> None:
    """Revoke one of the caller's tokens (the calling one included: that is a logout).
    Tokens created with it stay valid. Another user's token is `404`."""
    await tokens.revoke_token(session, principal.user_id, token_id, now=now)

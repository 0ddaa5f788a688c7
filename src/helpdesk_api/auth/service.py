"""Password login: throttled per account and per client address, hashing off the event loop."""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.auth.throttle import ThrottlePolicy, claim_attempt, take_back_attempt
from helpdesk_api.core.errors import InvalidInput, Unauthorized
from helpdesk_api.models import ApiToken, IdentityKind
from helpdesk_api.users.identities import normalize_identity
from helpdesk_api.users.passwords import verify_password
from helpdesk_api.users.service import find_user_by_identity
from helpdesk_api.users.tokens import issue_token, token_expiry


def account_key(email: str) -> str:
    """The e-mail as the throttle counts it: normalised when it is an address, so case and
    spacing do not buy fresh attempts; as typed otherwise (still counted)."""
    try:
        return normalize_identity(IdentityKind.email, email, loc=("body", "email"))
    except InvalidInput:
        return email.strip().lower()


async def login(
    session: AsyncSession,
    throttle_sessions: async_sessionmaker[AsyncSession],
    *,
    email: str,
    password: str,
    token_name: str,
    expires_at: datetime | None,
    address: str,
    now: datetime,
    policy: ThrottlePolicy,
    max_lifetime: timedelta,
) -> tuple[ApiToken, str]:
    expires_at = token_expiry(
        expires_at, now=now, max_lifetime=max_lifetime, parent_expires_at=None
    )
    account = account_key(email)
    # The attempt is claimed and the candidate read in a short transaction of its own, so no
    # database connection is held while the password is hashed.
    async with throttle_sessions() as throttle_session, throttle_session.begin():
        await claim_attempt(throttle_session, policy, account=account, address=address, now=now)
        try:
            user = await find_user_by_identity(throttle_session, IdentityKind.email, email)
        except InvalidInput:
            user = None  # not an address anyone could have registered: same as unknown
        candidate = (user.id, user.password_hash, user.is_active) if user else None
    # Unknown users are checked against a dummy hash, so their answer takes as long.
    valid = await verify_password(candidate[1] if candidate else None, password)
    if candidate is None or not valid or not candidate[2]:
        raise Unauthorized("The e-mail address or the password is wrong.")
    await take_back_attempt(session, policy, account=account, address=address)
    return await issue_token(session, candidate[0], token_name, expires_at=expires_at)

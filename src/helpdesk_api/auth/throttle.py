"""Exponential back-off for password logins, per account and per client address.

Every attempt is counted as a failure *before* the password is checked, in a short
transaction of its own that commits at once: parallel guesses then see each other's attempts
(counting after the check would let a burst of guesses all pass the same lock check), and the
count survives the 401 that rolls the request's own transaction back. A success takes its
attempt back. The state lives in PostgreSQL so every API process and a restart share it.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk_api.core.errors import TooManyRequests
from helpdesk_api.core.settings import Settings, get_settings
from helpdesk_api.models import LoginThrottle

ACCOUNT = "account"
ADDRESS = "address"
# 2**20 times any sensible base is past any sensible maximum; it only keeps the float finite.
_MAX_DOUBLINGS = 20


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: dict[str, int]  # per scope; 0 means that scope is not throttled
    base: timedelta
    maximum: timedelta
    memory: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> "ThrottlePolicy":
        return cls(
            free_failures={
                ACCOUNT: settings.login_free_failures_per_account,
                ADDRESS: settings.login_free_failures_per_address,
            },
            base=timedelta(seconds=settings.login_backoff_base_seconds),
            maximum=timedelta(seconds=settings.login_backoff_max_seconds),
            memory=timedelta(seconds=settings.login_failure_memory_seconds),
        )

    def lock_for(self, scope: str, failures: int) -> timedelta | None:
        """How long the key is refused after its ``failures``-th failure in a row."""
        free = self.free_failures[scope]
        if failures < free:
            return None
        doublings = min(failures - free, _MAX_DOUBLINGS)
        return min(self.base * (1 << doublings), self.maximum)


class LoginThrottled(TooManyRequests):
    def __init__(self, retry_after: timedelta) -> None:
        seconds = max(1, math.ceil(retry_after.total_seconds()))
        super().__init__(
            f"Too many failed logins for this account or from this address; retry in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )


def _keys(policy: ThrottlePolicy, account: str, address: str) -> list[tuple[str, str]]:
    wanted = [(ACCOUNT, account), (ADDRESS, address)]
    return [(scope, key) for scope, key in wanted if policy.free_failures[scope] > 0]


async def claim_attempt(
    session: AsyncSession, policy: ThrottlePolicy, *, account: str, address: str, now: datetime
) -> None:
    """Count one attempt against both keys, or raise LoginThrottled while either is locked.

    Runs in a transaction that commits before the password is checked (see the module note).
    """
    keys = _keys(policy, account, address)
    if not keys:
        return
    await session.execute(
        insert(LoginThrottle)
        .values(
            [
                {"scope": s, "key": k, "failures": 0, "last_failure_at": now, "locked_until": None}
                for s, k in keys
            ]
        )
        .on_conflict_do_nothing()
    )
    rows = (
        await session.scalars(
            select(LoginThrottle)
            .where(tuple_(LoginThrottle.scope, LoginThrottle.key).in_(keys))
            .order_by(LoginThrottle.scope, LoginThrottle.key)
            .with_for_update()
        )
    ).all()
    locked = [row.locked_until for row in rows if row.locked_until and row.locked_until > now]
    if locked:
        raise LoginThrottled(max(locked) - now)
    for row in rows:
        failures = 1 if now - row.last_failure_at > policy.memory else row.failures + 1
        lock = policy.lock_for(row.scope, failures)
        row.failures = failures
        row.last_failure_at = now
        row.locked_until = now + lock if lock else None
    await session.flush()


async def take_back_attempt(
    session: AsyncSession, policy: ThrottlePolicy, *, account: str, address: str
) -> None:
    """After a successful login: the account starts afresh; the address only gets back the
    attempt claimed for this login (its earlier failures may be someone else's guesses)."""
    await session.execute(
        delete(LoginThrottle).where(LoginThrottle.scope == ACCOUNT, LoginThrottle.key == account)
    )
    free = policy.free_failures[ADDRESS]
    if free == 0:
        return
    await session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.scope == ADDRESS, LoginThrottle.key == address)
        .values(
            failures=func.greatest(LoginThrottle.failures - 1, 0),
            locked_until=case(
                (LoginThrottle.failures - 1 >= free, LoginThrottle.locked_until), else_=None
            ),
        )
    )


async def purge_forgotten(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime
) -> float | None:
    """Worker job: drop keys whose failures are forgotten and whose lock has passed."""
    policy = ThrottlePolicy.from_settings(get_settings())
    async with sessionmaker() as session, session.begin():
        doomed = (
            select(LoginThrottle.scope, LoginThrottle.key)
            .where(
                LoginThrottle.last_failure_at < now - policy.memory,
                or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
            )
            .limit(1000)
            .with_for_update(skip_locked=True)
        )
        result = await session.execute(
            delete(LoginThrottle).where(tuple_(LoginThrottle.scope, LoginThrottle.key).in_(doomed))
        )
    return 0.0 if result.rowcount == 1000 else 3600.0  # type: ignore[attr-defined]

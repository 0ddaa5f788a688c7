"""Password hashing, off the event loop and in a pool of its own.

An argon2 hash costs ~100 ms of CPU and 64 MiB of memory (argon2-cffi's defaults, which
release the GIL): on the event loop every other request would wait behind it; in the default
executor a flood of logins would take the threads that other code shares. A small pool bounds
both the CPU and the memory a flood can take, and a cap on waiting checks sheds the rest.
"""

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from helpdesk_api.core.errors import TooManyRequests

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so response times stay alike. Made on
    first need, not at import: every process (each CLI command) would pay a hash for it."""
    return _hasher.hash("not-a-real-password")


POOL_THREADS = max(1, min(4, os.cpu_count() or 1))
# Checks queued beyond this are refused at once: each waiting one is a request held open.
MAX_WAITING = 64 * POOL_THREADS
_pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="passwords")
_waiting: set[object] = set()

P = ParamSpec("P")
R = TypeVar("R")


async def run_in_password_pool(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    if len(_waiting) >= MAX_WAITING:
        raise TooManyRequests(
            "Too many password checks are in progress; retry in a second.",
            headers={"Retry-After": "1"},
        )
    ticket = object()
    _waiting.add(ticket)
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_pool, functools.partial(fn, *args, **kwargs))
    finally:
        _waiting.discard(ticket)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        verified = _hasher.verify(password_hash or _dummy_hash(), password)
        return verified and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await run_in_password_pool(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await run_in_password_pool(_verify, password_hash, password)

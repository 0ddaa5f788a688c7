"""The time a request happens at, passed into services so rules never read the clock.

Dependencies here are ``async`` on purpose: FastAPI runs plain functions in a thread pool.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends


async def current_time() -> datetime:
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(current_time)]

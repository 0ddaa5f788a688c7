from typing import Annotated

from fastapi import Path

# Ids are PostgreSQL bigints; anything outside that range can never name a row.
ResourceId = Annotated[int, Path(ge=1, le=2**63 - 1)]

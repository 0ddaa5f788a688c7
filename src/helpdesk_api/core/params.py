import re
from typing import Annotated

from fastapi import Path
from pydantic import AwareDatetime, BeforeValidator

# Ids are PostgreSQL bigints; anything outside that range can never name a row.
ResourceId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _rfc3339_only(value: object) -> object:
    # Pydantic would read "0.5" or 1700000000 as a Unix time; the contract says RFC 3339.
    if isinstance(value, int | float) or (
        isinstance(value, str) and not _RFC3339_DATE.match(value)
    ):
        raise ValueError("expected an RFC 3339 timestamp such as 2026-11-22T10:00:00Z")
    return value


_RFC3339_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")

# An RFC 3339 timestamp with its offset; naive times are refused rather than guessed.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_only)]

import re
from typing import Annotated

from fastapi import Path, Query
from pydantic import AwareDatetime, BeforeValidator

from helpdesk_api.core.errors import InvalidInput

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


MAX_IDS = 100
_MAX_ID = 2**63 - 1


def parse_ids(raw: str | None, loc: tuple[str, ...] = ("query", "ids")) -> tuple[int, ...]:
    """``"1,2,3"`` → ``(1, 2, 3)``: at most ``MAX_IDS`` ids, or a 422 naming ``loc``."""
    if raw is None:
        return ()
    parts = [p.strip() for p in raw.split(",")]
    if len(parts) > MAX_IDS:
        raise InvalidInput(f"ids takes at most {MAX_IDS} ids.", loc=loc)
    if not all(p.isascii() and p.isdigit() and 0 < int(p) <= _MAX_ID for p in parts):
        raise InvalidInput("ids is a comma-separated list of ids, such as 1,2,3.", loc=loc)
    return tuple(dict.fromkeys(int(p) for p in parts))


Ids = Annotated[
    str | None,
    Query(
        max_length=MAX_IDS * 20,
        description=f"Comma-separated, at most {MAX_IDS}: only these (ids not found or not "
        "visible are left out).",
    ),
]

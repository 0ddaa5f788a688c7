"""ETags from row versions, and If-Match checks for optimistic concurrency."""

from typing import Annotated

from fastapi import Header

from helpdesk_api.core.errors import PreconditionFailed

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="ETag from a previous GET; the write is refused with 412 if it changed.",
    ),
]


def make_etag(kind: str, resource_id: int, version: int) -> str:
    return f'"{kind}-{resource_id}-v{version}"'


def check_if_match(if_match: str | None, current: str) -> None:
    if if_match is None:
        return
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in candidates or current in candidates:
        return
    raise PreconditionFailed(
        f"The resource has changed since you read it (current ETag {current}); "
        "read it again and retry with the new ETag."
    )

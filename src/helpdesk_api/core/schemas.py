"""Shared building blocks for request and response models."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StrictModel(BaseModel):
    """Input models refuse unknown fields: a typo must not be silently ignored.

    Booleans and ids in inputs use StrictBool/StrictInt, so a 0 is never read as false.
    """

    model_config = ConfigDict(extra="forbid")


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable() -> Any:
    """A PATCH field that may be left out (no change) but is never null in the contract."""
    return Field(default=None, json_schema_extra=_no_default)

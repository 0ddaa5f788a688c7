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


class Presented(BaseModel):
    """One shape of a resource that staff and customers see differently.

    Each shape declares ``view: Literal["…"] = view_field("…")`` and the route returns
    ``Annotated[A | B, Field(discriminator="view")]``: the published schema is then a
    ``oneOf`` with an OpenAPI ``discriminator``, and ``view`` is required (the server always
    sends it), so a generated client narrows the union on it without casts.
    """

    # Response fields with defaults are sent all the same: publish them as required.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


def view_field(view: str) -> Any:
    return Field(
        default=view,
        description="Which representation this is. Staff and customers are shown different "
        "fields; test `view` to tell them apart.",
    )

"""Polish on FastAPI's generated document, so generated clients see the real error contract,
and its ``webhooks`` section: the messages this service sends. Last, ``openapi_clients``
shapes the whole document for client generators."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from helpdesk_api.core.errors import PROBLEM_MEDIA_TYPE
from helpdesk_api.core.openapi_clients import for_generated_clients

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_CONDITIONAL = {
    "If-Match": ("412", "The resource changed since the given ETag was read"),
    "Idempotency-Key": ("409", "A request with the same Idempotency-Key is still in flight"),
}


def _problem_only(response: dict[str, Any]) -> None:
    content = response.get("content", {})
    if PROBLEM_MEDIA_TYPE in content and "application/json" in content:
        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")


def _polish(document: dict[str, Any]) -> dict[str, Any]:
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            responses: dict[str, Any] = operation.get("responses", {})
            for code, response in responses.items():
                if code[0] in "45":
                    _problem_only(response)
            if method in ("post", "patch", "put", "delete") and "409" not in responses:
                responses["409"] = {
                    "description": "Conflicts with the current state of a resource",
                    "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}},
                }
            for parameter in operation.get("parameters", []):
                conditional = _CONDITIONAL.get(parameter["name"])
                if conditional and conditional[0] not in responses:
                    code, description = conditional
                    responses[code] = {
                        "description": description,
                        "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}},
                    }
    return document


@dataclass(frozen=True)
class WebhookDoc:
    name: str
    description: str
    message: type[BaseModel]


# Filled by the event catalogue (``event_catalogue/webhooks.py``): core knows no event type.
# Sources, not documents: a model per event type costs ~0.2 s to build, which only the
# OpenAPI document needs, not every process that imports the routers.
WEBHOOK_SOURCES: list[Callable[[], list[WebhookDoc]]] = []
_REF = "#/components/schemas/{model}"


def _add_webhooks(document: dict[str, Any]) -> dict[str, Any]:
    """Messages are documented as they are sent (serialization mode: computed fields too),
    which FastAPI would do only for responses; their models join the components."""
    webhooks = [doc for source in WEBHOOK_SOURCES for doc in source()]
    if not webhooks:
        return document
    keys, top = models_json_schema(
        [(doc.message, "serialization") for doc in webhooks], ref_template=_REF
    )
    components: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in top.get("$defs", {}).items():
        # A model the paths use already is kept as FastAPI wrote it (its details differ in
        # form only); two different models under one name would differ in their fields.
        known = components.setdefault(name, schema)
        if set(known.get("properties", {})) != set(schema.get("properties", {})):
            raise RuntimeError(f"two models are named {name} in the OpenAPI document")
    document["webhooks"] = {
        doc.name: {
            "post": {
                "summary": doc.name,
                "description": doc.description,
                "operationId": f"webhooks-{doc.name}",
                "tags": ["webhooks"],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": keys[doc.message, "serialization"]}},
                },
                "responses": {"2XX": {"description": "Received; any other answer is retried."}},
            }
        }
        for doc in webhooks
    }
    return document


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            app.openapi_schema = for_generated_clients(_add_webhooks(_polish(document)))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""Polish on FastAPI's generated document, so generated clients see the real error contract."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from helpdesk_api.core.errors import PROBLEM_MEDIA_TYPE

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


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _polish(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                    tags=app.openapi_tags,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

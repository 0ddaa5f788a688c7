"""The conventions that let generated clients read the OpenAPI document right, applied to the
whole document in one place, so every request schema follows them without being told.

Request bodies: a property that has a ``default`` carries no ``default`` keyword. Generators
read ``default`` as "always present" (openapi-typescript's ``defaultNonNullable``, on by
default), so a field the server fills in when it is left out would become one the client must
send. The value moves into the description instead, where people still read it.

A schema that both a request body and a response use, and that has defaults, is published
twice, as FastAPI does for models whose two sides differ: ``Name-Input`` (no defaults: fields
may be left out) and ``Name-Output`` (as before: the server sends every field).
"""

import copy
import json
from collections.abc import Iterable, Iterator
from typing import Any

_REF_PREFIX = "#/components/schemas/"
_DEFAULT_NOTE = "Default when left out: `{value}`."
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _operations(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in _METHODS:
                yield operation


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            yield ref.removeprefix(_REF_PREFIX)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _closure(schemas: dict[str, Any], roots: Iterable[Any]) -> set[str]:
    """Every component schema the roots use, directly or through other components."""
    seen: set[str] = set()
    todo = [name for root in roots for name in _refs(root)]
    while todo:
        name = todo.pop()
        if name not in seen and name in schemas:
            seen.add(name)
            todo.extend(_refs(schemas[name]))
    return seen


def request_schemas(document: dict[str, Any]) -> set[str]:
    """The component schemas a client writes: those reachable from a path's request body.
    The ``webhooks`` section's bodies are messages this service sends, so they are not."""
    schemas = document.get("components", {}).get("schemas", {})
    bodies = [op["requestBody"] for op in _operations(document) if "requestBody" in op]
    return _closure(schemas, bodies)


def response_schemas(document: dict[str, Any]) -> set[str]:
    """The component schemas a client reads: path responses and webhook messages."""
    schemas = document.get("components", {}).get("schemas", {})
    roots: list[Any] = [op.get("responses", {}) for op in _operations(document)]
    roots.append(document.get("webhooks", {}))
    return _closure(schemas, roots)


def _object_schemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The schema and the inline object schemas inside it (an anyOf branch, list items)."""
    yield schema
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            if isinstance(branch, dict):
                yield from _object_schemas(branch)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _object_schemas(schema[key])
    for value in schema.get("properties", {}).values():
        yield from _object_schemas(value)


def _defaults_to_descriptions(schema: dict[str, Any]) -> None:
    for part in list(_object_schemas(schema)):
        for prop in part.get("properties", {}).values():
            if "default" not in prop:
                continue
            value = prop.pop("default")
            # A null default says nothing a client needs: leaving the field out is the same.
            if value is None:
                continue
            note = _DEFAULT_NOTE.format(value=json.dumps(value, ensure_ascii=False))
            description = prop.get("description")
            prop["description"] = f"{description}\n\n{note}" if description else note


def _has_defaults(schema: dict[str, Any]) -> bool:
    return any(
        "default" in prop
        for part in _object_schemas(schema)
        for prop in part.get("properties", {}).values()
    )


def _renamed(node: Any, names: dict[str, str]) -> Any:
    """node with its references to the keys of names pointing at their values instead."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.removeprefix(_REF_PREFIX) in names:
            node["$ref"] = _REF_PREFIX + names[ref.removeprefix(_REF_PREFIX)]
        for value in node.values():
            _renamed(value, names)
    elif isinstance(node, list):
        for value in node:
            _renamed(value, names)
    return node


def _split_shared(document: dict[str, Any]) -> None:
    """Publish each schema used on both sides that has defaults as -Input and -Output."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    requests, responses = request_schemas(document), response_schemas(document)
    shared = requests & responses
    split = {name for name in shared if _has_defaults(schemas[name])}
    # A shared schema that uses a split one differs between the two sides as well.
    while more := {name for name in shared - split if split & set(_refs(schemas[name]))}:
        split |= more
    if not split:
        return
    inputs = {name: f"{name}-Input" for name in split}
    outputs = {name: f"{name}-Output" for name in split}
    for name in sorted(split):  # the document must not depend on the set's hash order
        original = schemas.pop(name)
        schemas[inputs[name]] = _renamed(copy.deepcopy(original), inputs)
        schemas[outputs[name]] = _renamed(original, outputs)
        # Generators name classes by title (openapi-python-client refuses two of one name).
        schemas[inputs[name]]["title"] = inputs[name]
        schemas[outputs[name]]["title"] = outputs[name]
    for name in requests - shared:
        _renamed(schemas[name], inputs)
    for name in responses - shared:
        _renamed(schemas[name], outputs)
    for operation in _operations(document):
        _renamed(operation.get("requestBody"), inputs)
        _renamed(operation.get("parameters"), inputs)
        _renamed(operation.get("responses"), outputs)
    _renamed(document.get("webhooks"), outputs)


def for_generated_clients(document: dict[str, Any]) -> dict[str, Any]:
    """Split the schemas both sides use with defaults, then move every request-body
    property's ``default`` into its description (module doc)."""
    _split_shared(document)
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for name in request_schemas(document):
        _defaults_to_descriptions(schemas[name])
    for operation in _operations(document):
        for content in operation.get("requestBody", {}).get("content", {}).values():
            if isinstance(content.get("schema"), dict):
                _defaults_to_descriptions(content["schema"])
    return document

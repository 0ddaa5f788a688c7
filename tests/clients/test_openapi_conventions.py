"""The conventions generated clients rely on, checked over the whole committed OpenAPI document
without node or a generator, so a new schema that breaks one fails here first (ARCHITECTURE.md,
"Generated clients"; the generators themselves run in test_typescript_client.py and
test_python_client.py)."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
DOCUMENT: dict[str, Any] = json.loads(OPENAPI.read_text())
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
REF = "#/components/schemas/"


def _operations() -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def _walk(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object under node, with where it is, following $refs once each."""
    seen: set[str] = set()
    todo = [(where, node)]
    while todo:
        at, current = todo.pop()
        if isinstance(current, list):
            todo.extend((f"{at}[{i}]", value) for i, value in enumerate(current))
        elif isinstance(current, dict):
            yield at, current
            ref = current.get("$ref", "")
            if ref.startswith(REF) and ref not in seen:
                seen.add(ref)
                name = ref.removeprefix(REF)
                todo.append((name, SCHEMAS[name]))
            todo.extend((f"{at}.{key}", value) for key, value in current.items() if key != "$ref")


def _request_schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, operation in _operations():
        if "requestBody" in operation:
            yield from _walk(operation["requestBody"], f"{name} request")


def _response_schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, operation in _operations():
        for code, response in operation["responses"].items():
            yield from _walk(response, f"{name} {code}")
    yield from _walk(DOCUMENT.get("webhooks", {}), "webhooks")


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    return SCHEMAS[ref.removeprefix(REF)] if ref.startswith(REF) else schema


def test_no_request_body_property_has_a_default():
    # Generators read `default` as "always present" and make the field required to send
    # (openapi-typescript's defaultNonNullable); the server's default belongs in the text.
    offenders = {
        f"{where}.{prop}"
        for where, schema in _request_schemas()
        for prop, spec in schema.get("properties", {}).items()
        if isinstance(spec, dict) and "default" in spec
    }
    assert not offenders, f"request properties with a default: {sorted(offenders)}"


def test_request_defaults_stay_documented():
    props = SCHEMAS["CommentCreate"]["properties"]
    assert "Default when left out: `false`." in props["propagate"]["description"]
    assert "propagate" not in SCHEMAS["CommentCreate"].get("required", [])


def test_a_schema_used_both_ways_with_defaults_is_published_twice():
    # SLA conditions are written (PolicyCreate) and read (PolicyRead): the written side has
    # its fields optional, the read side keeps what the server always sends.
    assert "Conditions" not in SCHEMAS
    written = SCHEMAS["Conditions-Input"]["properties"]["priority"]
    read = SCHEMAS["Conditions-Output"]["properties"]["priority"]
    assert "default" not in written
    assert read["default"] == []
    assert SCHEMAS["PolicyRead"]["properties"]["conditions"] == {"$ref": f"{REF}Conditions-Output"}


# An automation's condition is a time condition or a trigger condition, told apart by the
# value of `field` (one of the `hours_*` fields or not): OpenAPI's discriminator needs one
# constant per shape, so this union stays a plain oneOf. It is admin tooling, not a view.
UNDISCRIMINATED = ("AutomationConditions-",)


def test_every_response_union_of_objects_has_a_discriminator():
    # A union of two object shapes (staff and customer views) must say which one a response
    # is, or a typed client cannot read a field only one of them has without a cast.
    unions = []
    for where, schema in _response_schemas():
        for keyword in ("anyOf", "oneOf"):
            shapes = [s for s in schema.get(keyword, []) if "$ref" in s or "properties" in s]
            if len(shapes) < 2:
                continue
            if where.startswith(UNDISCRIMINATED):
                continue
            unions.append(where)
            discriminator = schema.get("discriminator")
            assert discriminator, f"{where}: a {keyword} of objects without a discriminator"
            assert keyword == "oneOf", f"{where}: a discriminated union is a oneOf"
            prop = discriminator["propertyName"]
            values = set()
            for shape in map(_resolve, shapes):
                assert prop in shape.get("required", []), f"{where}: {prop} must be required"
                values.add(shape["properties"][prop]["const"])
            assert values == set(discriminator["mapping"]), where
    assert unions, "the ticket views are a union: the check must find them"


@pytest.mark.parametrize(
    ("staff", "other"),
    [("TicketRead", "CustomerTicketRead"), ("StatusRead", "StatusCustomerRead")],
)
def test_the_customer_view_has_no_staff_only_field(staff, other):
    staff_fields = set(SCHEMAS[staff]["properties"])
    customer_fields = set(SCHEMAS[other]["properties"])
    assert SCHEMAS[other]["properties"]["view"]["const"] == "customer"
    assert SCHEMAS[staff]["properties"]["view"]["const"] == "staff"
    assert not {"priority", "assignee_id", "group_id", "tags", "agent_label"} & customer_fields
    assert customer_fields - staff_fields <= {"label"}


def test_every_response_names_real_media_types():
    # A response that is only */* is dropped by openapi-python-client; bytes are offered as
    # application/octet-stream first.
    for name, operation in _operations():
        for code, response in operation["responses"].items():
            content = response.get("content", {})
            if not content:
                continue
            first = next(iter(content))
            assert first != "*/*", f"{name} {code}: first media type is */*"
            binary = [
                t for t, m in content.items() if m.get("schema", {}).get("format") == "binary"
            ]
            if binary and not first.startswith("message/"):
                assert first == "application/octet-stream", f"{name} {code}"


def test_the_event_stream_documents_its_messages():
    stream = DOCUMENT["paths"]["/v1/events/stream"]["get"]["responses"]["200"]
    assert stream["content"]["text/event-stream"]["schema"] == {"$ref": f"{REF}EventRead"}
    assert "webhooks" in stream["description"]


def test_no_two_schemas_share_a_title():
    # openapi-python-client names its classes by title and drops both schemas of a clash
    # (with every operation that uses them).
    titles: dict[str, str] = {}
    for name, schema in SCHEMAS.items():
        title = schema.get("title", name)
        assert title not in titles, f"{name} and {titles[title]} are both titled {title}"
        titles[title] = name


def test_the_document_does_not_depend_on_the_hash_seed():
    # A set iterated while building it once reordered the schemas between processes, so
    # the committed document looked stale at random.
    import os
    import subprocess
    import sys

    code = "from helpdesk_api.cli import _openapi_text; print(_openapi_text())"
    texts = {
        subprocess.run(  # noqa: S603 (our own interpreter and code)
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(texts) == 1

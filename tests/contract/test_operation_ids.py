"""Generated clients name their methods after operation ids and group them by tag."""

import json
import re
from pathlib import Path

DOCUMENT = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
OPERATIONS = [
    (method, path, operation)
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items()
]


def test_operation_ids_are_unique_camel_case_verbs():
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", operation_id), operation_id
    assert {"listTickets", "createTicket", "getTicket", "updateTicket"} <= set(ids)


def test_every_operation_has_one_tag():
    for method, path, operation in OPERATIONS:
        assert len(operation.get("tags", [])) == 1, (method, path)

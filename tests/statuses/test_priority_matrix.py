import json
from itertools import product
from typing import Any

import asyncpg

from helpdesk_api.core.db import create_engine, create_sessionmaker, to_libpq_url
from helpdesk_api.models import Level, Priority
from helpdesk_api.statuses.service import priority_from_matrix
from tests.factories import ADMIN, assert_problem, make_user_with_token

LEVELS = ["low", "medium", "high"]
ITIL = {
    ("high", "high"): "urgent",
    ("high", "medium"): "high",
    ("medium", "high"): "high",
    ("high", "low"): "normal",
    ("medium", "medium"): "normal",
    ("low", "high"): "normal",
    ("medium", "low"): "low",
    ("low", "medium"): "low",
    ("low", "low"): "low",
}


def cells(priorities: dict[tuple[str, str], str]) -> list[dict[str, Any]]:
    return [
        {"impact": impact, "urgency": urgency, "priority": priorities[impact, urgency]}
        for impact, urgency in product(LEVELS, LEVELS)
    ]


async def test_default_matrix_has_the_nine_itil_cells_in_level_order(client):
    response = await client.get("/v1/priority-matrix", headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {"cells": cells(ITIL)}


async def test_admin_replaces_the_matrix(client):
    edited = {**ITIL, ("low", "low"): "urgent", ("high", "high"): "low"}
    response = await client.put("/v1/priority-matrix", json={"cells": cells(edited)}, headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {"cells": cells(edited)}
    assert (await client.get("/v1/priority-matrix", headers=ADMIN)).json() == response.json()


async def test_replacing_records_an_event_naming_the_changed_cells(client, database_url):
    edited = {**ITIL, ("low", "low"): "high"}
    await client.put("/v1/priority-matrix", json={"cells": cells(edited)}, headers=ADMIN)
    await client.put("/v1/priority-matrix", json={"cells": cells(edited)}, headers=ADMIN)
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT data FROM events WHERE type = 'priority_matrix.updated'"
        )
    finally:
        await connection.close()
    assert len(rows) == 1  # the second, identical PUT changed nothing
    changes = json.loads(rows[0]["data"])["changes"]
    # One {field, from, to} shape for every *.updated event (issue 11).
    assert changes == [{"field": "impact.low.urgency.low", "from": "low", "to": "high"}]


async def test_light_agent_reads_the_matrix_but_customer_cannot(client):
    _, light_agent = await make_user_with_token(client, role="light_agent")
    _, customer = await make_user_with_token(client)
    assert (await client.get("/v1/priority-matrix", headers=light_agent)).status_code == 200
    assert_problem(await client.get("/v1/priority-matrix", headers=customer), 403)
    assert_problem(await client.get("/v1/priority-matrix"), 401)


async def test_agent_cannot_replace_the_matrix(client):
    _, agent = await make_user_with_token(client, role="agent")
    response = await client.put("/v1/priority-matrix", json={"cells": cells(ITIL)}, headers=agent)
    assert_problem(response, 403)


async def test_missing_cell_is_422_naming_it(client):
    body = {"cells": [c for c in cells(ITIL) if (c["impact"], c["urgency"]) != ("high", "low")]}
    response = await client.put("/v1/priority-matrix", json=body, headers=ADMIN)
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "cells"]
    assert "impact=high urgency=low" in problem["detail"]
    assert (await client.get("/v1/priority-matrix", headers=ADMIN)).json() == {"cells": cells(ITIL)}


async def test_duplicate_cell_is_422_naming_its_index(client):
    body = {"cells": [*cells(ITIL), {"impact": "low", "urgency": "low", "priority": "high"}]}
    response = await client.put("/v1/priority-matrix", json=body, headers=ADMIN)
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "cells", 9]
    assert "cells[0]" in problem["detail"]


async def test_duplicate_cell_replacing_another_is_422(client):
    body = cells(ITIL)
    body[8] = {**body[0]}  # nine cells, but (low, low) twice and (high, high) missing
    response = await client.put("/v1/priority-matrix", json={"cells": body}, headers=ADMIN)
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "cells", 8]


async def test_bad_priority_or_level_is_422(client):
    body = cells(ITIL)
    body[2] = {**body[2], "priority": "critical"}
    response = await client.put("/v1/priority-matrix", json={"cells": body}, headers=ADMIN)
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "cells", 2, "priority"]
    body = cells(ITIL)
    body[0] = {**body[0], "impact": "huge"}
    response = await client.put("/v1/priority-matrix", json={"cells": body}, headers=ADMIN)
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "cells", 0, "impact"]


async def test_unknown_fields_in_a_cell_are_refused(client):
    body = cells(ITIL)
    body[0] = {**body[0], "note": "x"}
    response = await client.put("/v1/priority-matrix", json={"cells": body}, headers=ADMIN)
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "cells", 0, "note"]


async def test_priority_from_matrix_follows_the_edited_matrix(client, database_url):
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine)() as session:
            assert await priority_from_matrix(session, Level.high, Level.high) == Priority.urgent
            assert await priority_from_matrix(session, Level.low, Level.medium) == Priority.low
        edited = {**ITIL, ("high", "high"): "normal", ("low", "medium"): "urgent"}
        response = await client.put(
            "/v1/priority-matrix", json={"cells": cells(edited)}, headers=ADMIN
        )
        assert response.status_code == 200
        async with create_sessionmaker(engine)() as session:
            assert await priority_from_matrix(session, Level.high, Level.high) == Priority.normal
            assert await priority_from_matrix(session, Level.low, Level.medium) == Priority.urgent
            assert await priority_from_matrix(session, Level.medium, Level.high) == Priority.high
    finally:
        await engine.dispose()

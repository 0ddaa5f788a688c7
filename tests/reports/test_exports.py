"""Incremental exports: each change once, in commit order, resumable, for admins only."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.tickets.factories import comment, make_ticket, update_ticket


async def _drain(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], want: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """Follow next_cursor until ``want`` resources came (the feed shows a change only when
    every older transaction of the parallel suite has ended) and the stream ended."""
    pages: list[dict[str, Any]] = []
    data: list[dict[str, Any]] = []
    for _ in range(100):
        response = await client.get(path, params=params, headers=ADMIN)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        data.extend(page["data"])
        params = {"cursor": page["next_cursor"], "limit": params.get("limit", 100)}
        if page["end_of_stream"]:
            if len(data) >= want:
                return data, pages, page["next_cursor"]
            await asyncio.sleep(0.1)
    raise AssertionError(f"only {len(data)} of {want} exported")


async def test_exports_give_each_change_once_and_resume_from_the_cursor(
    client: httpx.AsyncClient,
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    first = await make_ticket(client)
    second = await make_ticket(client)
    agent, agent_headers = await make_user_with_token(client, role="agent")
    note = await comment(client, first["id"], agent_headers, body="internal", public=False)
    assert note.status_code == 201

    tickets, pages, cursor = await _drain(
        client, "/v1/exports/tickets", {"start_time": since, "limit": 1}, 3
    )
    # The note changed the first ticket after the second was created: it comes again.
    assert [t["id"] for t in tickets] == [first["id"], second["id"], first["id"]]
    assert all(len(p["data"]) <= 1 for p in pages)
    comments, _, _ = await _drain(client, "/v1/exports/comments", {"start_time": since}, 3)
    assert [c["public"] for c in comments] == [True, True, False]  # notes are exported
    users, _, _ = await _drain(client, "/v1/exports/users", {"start_time": since}, 1)
    assert agent["id"] in [u["id"] for u in users]
    metrics, _, _ = await _drain(client, "/v1/exports/ticket-metrics", {"start_time": since}, 2)
    # One page: each ticket once, in the order it first changed.
    assert [m["ticket_id"] for m in metrics] == [first["id"], second["id"]]

    # From the cursor: only what changed since, once, as it is now.
    await update_ticket(client, second["id"], priority="high")
    await update_ticket(client, second["id"], priority="urgent")
    again, _, _ = await _drain(client, "/v1/exports/tickets", {"cursor": cursor}, 1)
    assert [(t["id"], t["priority"]) for t in again] == [(second["id"], "urgent")]

    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = await client.get("/v1/exports/tickets", params={"start_time": later},
                                headers=ADMIN)  # fmt: skip
    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["end_of_stream"] is True


async def test_exports_refuse_bad_input_and_anyone_but_admins(client: httpx.AsyncClient) -> None:
    for kind in ("tickets", "comments", "users", "ticket-metrics"):
        path = f"/v1/exports/{kind}"
        assert_problem(await client.get(path, headers=ADMIN), 422)
        assert_problem(await client.get(path, params={"cursor": "%%%"}, headers=ADMIN), 422)
        bad_time = {"start_time": "last tuesday"}
        assert_problem(await client.get(path, params=bad_time, headers=ADMIN), 422)
        big = {"start_time": "2026-01-01T00:00:00Z", "limit": 5000}
        assert_problem(await client.get(path, params=big, headers=ADMIN), 422)
    customer, customer_headers = await make_user_with_token(client)
    _, agent_headers = await make_user_with_token(client, role="agent")
    await make_user(client)
    since = {"start_time": "2026-01-01T00:00:00Z"}
    for headers in (customer_headers, agent_headers):
        for kind in ("tickets", "comments", "users", "ticket-metrics"):
            response = await client.get(f"/v1/exports/{kind}", params=since, headers=headers)
            assert_problem(response, 403)
    assert customer["id"]

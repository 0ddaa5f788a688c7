"""Cursors beyond bigint are refused with a 422 before any SQL runs or any stream opens."""

import base64
import json

import pytest

from tests.factories import ADMIN, assert_problem


def _cursor(tx_id: int, event_id: int) -> str:
    raw = json.dumps([tx_id, event_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


OUT_OF_RANGE = [_cursor(2**63, 1), _cursor(1, 2**63), _cursor(-(2**63) - 1, 1), _cursor(10**40, 0)]


@pytest.mark.parametrize("cursor", OUT_OF_RANGE)
async def test_stream_refuses_an_out_of_range_last_event_id(client, cursor):
    response = await client.get("/v1/events/stream", headers={**ADMIN, "Last-Event-ID": cursor})
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["header", "Last-Event-ID"]
    assert body["errors"][0]["type"] == "cursor_invalid"


@pytest.mark.parametrize("cursor", OUT_OF_RANGE)
async def test_stream_refuses_an_out_of_range_after(client, cursor):
    response = await client.get("/v1/events/stream", params={"after": cursor}, headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "after"]


@pytest.mark.parametrize("cursor", OUT_OF_RANGE)
async def test_feed_refuses_an_out_of_range_cursor(client, cursor):
    response = await client.get("/v1/events", params={"after": cursor}, headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"][0] == {
        "loc": ["query", "after"],
        "msg": body["detail"],
        "type": "cursor_invalid",
    }


async def test_largest_bigint_cursor_is_accepted(client):
    response = await client.get(
        "/v1/events", params={"after": _cursor(2**63 - 1, 2**63 - 1)}, headers=ADMIN
    )
    assert response.status_code == 200
    assert response.json()["data"] == []

"""Two merges touching the same tickets at once: one wins, the other is refused cleanly."""

import asyncio

import httpx
import pytest

from tests.merging.factories import merge
from tests.tickets.factories import get_ticket, make_ticket


@pytest.fixture
async def second_client(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def _one_wins(responses):
    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 200, [r.text for r in responses]
    assert codes[1] in (409, 422), [r.text for r in responses]
    loser = next(r for r in responses if r.status_code != 200)
    assert loser.headers["content-type"].startswith("application/problem+json")
    return next(r for r in responses if r.status_code == 200).json()


async def test_crossed_merges_do_not_deadlock(client, second_client):
    for _ in range(5):
        a, b = await make_ticket(client), await make_ticket(client)
        responses = await asyncio.gather(
            merge(client, a["id"], [b["id"]]), merge(second_client, b["id"], [a["id"]])
        )
        won = _one_wins(responses)
        target, source = won["target"]["id"], won["sources"][0]["id"]
        assert (await get_ticket(client, source))["merged_into_id"] == target
        assert (await get_ticket(client, target))["merged_into_id"] is None
        assert (await get_ticket(client, target))["status"]["category"] != "closed"


async def test_one_source_into_two_targets_is_merged_once(client, second_client):
    for _ in range(5):
        a, b, c = await make_ticket(client), await make_ticket(client), await make_ticket(client)
        responses = await asyncio.gather(
            merge(client, a["id"], [c["id"]]), merge(second_client, b["id"], [c["id"]])
        )
        won = _one_wins(responses)
        assert (await get_ticket(client, c["id"]))["merged_into_id"] == won["target"]["id"]
        loser = a if won["target"]["id"] == b["id"] else b
        assert (await get_ticket(client, loser["id"]))["comment_count"] == 1

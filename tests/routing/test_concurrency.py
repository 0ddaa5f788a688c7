"""Many tickets routed at once: nobody gets more than their share, nobody passes the limit.

Each request is its own transaction on its own connection (the app's pool), started
together; routing locks the candidates and counts their open work after the lock.
"""

import asyncio
from collections import Counter

from tests.routing.helpers import failures, make_agent, routed_group
from tests.tickets.factories import make_ticket


async def _create_at_once(client, group_id, n):
    return await asyncio.gather(*(make_ticket(client, group_id=group_id) for _ in range(n)))


async def test_parallel_creates_never_overshoot_capacity(client, database_url):
    agents = [(await make_agent(client))[0] for _ in range(3)]
    group = await routed_group(client, "least_busy", *agents, max_open_per_agent=2)
    tickets = await _create_at_once(client, group, 10)
    per_agent = Counter(t["assignee_id"] for t in tickets)
    assert per_agent == {agents[0]: 2, agents[1]: 2, agents[2]: 2, None: 4}
    reasons = [f["reason"] for f in await failures(database_url)]
    assert reasons == ["all_at_capacity"] * 4


async def test_parallel_round_robin_deals_evenly(client):
    agents = [(await make_agent(client))[0] for _ in range(3)]
    group = await routed_group(client, "round_robin", *agents)
    tickets = await _create_at_once(client, group, 9)
    assert Counter(t["assignee_id"] for t in tickets) == dict.fromkeys(agents, 3)


async def test_parallel_routing_in_two_groups_shares_one_agents_capacity(client):
    """The limit counts open work across groups: two groups routing to one agent at once
    must not both see them below it."""
    shared, _ = await make_agent(client)
    first = await routed_group(client, "least_busy", shared, max_open_per_agent=3)
    second = await routed_group(client, "least_busy", shared, max_open_per_agent=3)
    tickets = await asyncio.gather(
        *(make_ticket(client, group_id=g) for g in (first, second) for _ in range(4))
    )
    assert Counter(t["assignee_id"] for t in tickets) == {shared: 3, None: 5}

"""Who gets a new or moved-in ticket: modes, availability, skills, language, the account
manager, capacity, and why nobody (``assignment.failed``)."""

from tests.factories import ADMIN, make_user
from tests.routing.helpers import (
    events_of,
    failures,
    make_agent,
    new_ticket,
    routed_group,
    set_availability,
)
from tests.tickets.factories import audits, get_ticket, make_group, status_id, update_ticket


async def test_round_robin_takes_members_in_turn(client):
    a, _ = await make_agent(client)
    b, _ = await make_agent(client)
    c, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a, b, c)
    assignees = [(await new_ticket(client, group))["assignee_id"] for _ in range(6)]
    assert assignees == [a, b, c, a, b, c]


async def test_round_robin_gives_a_new_member_the_next_ticket(client):
    a, _ = await make_agent(client)
    b, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a, b)
    assert [(await new_ticket(client, group))["assignee_id"] for _ in range(3)] == [a, b, a]
    c, _ = await make_agent(client)
    await client.put(f"/v1/groups/{group}/members/{c}", headers=ADMIN)
    assert [(await new_ticket(client, group))["assignee_id"] for _ in range(3)] == [c, b, a]


async def test_least_busy_picks_the_fewest_open_tickets_across_groups(client):
    a, _ = await make_agent(client)
    b, _ = await make_agent(client)
    other = (await make_group(client, "Elsewhere", a, b))["id"]
    for _ in range(2):
        await new_ticket(client, other, assignee_id=a)
    await new_ticket(client, other, assignee_id=b)
    group = await routed_group(client, "least_busy", a, b)
    assert (await new_ticket(client, group))["assignee_id"] == b
    # Now 2 each: equals take turns, the one routed to least recently first (a never was).
    assert (await new_ticket(client, group))["assignee_id"] == a


async def test_solved_and_closed_tickets_are_not_open_work(client, database_url):
    a, _ = await make_agent(client)
    b, _ = await make_agent(client)
    group = await routed_group(client, "least_busy", a, b, max_open_per_agent=1)
    solved = await status_id(client, "solved")
    for _ in range(3):
        await new_ticket(client, group, assignee_id=a, status_id=solved)
    pending = await status_id(client, "pending")
    await new_ticket(client, group, assignee_id=b, status_id=pending)
    assert (await new_ticket(client, group))["assignee_id"] == a
    # b's pending ticket is open work: both are now at the limit of one.
    ticket = await new_ticket(client, group)
    assert ticket["assignee_id"] is None
    assert [f["reason"] for f in await failures(database_url, ticket["id"])] == ["all_at_capacity"]


async def test_manual_group_routes_nobody_and_records_nothing(client, database_url):
    a, _ = await make_agent(client)
    group = await routed_group(client, "manual", a)
    ticket = await new_ticket(client, group)
    assert ticket["assignee_id"] is None
    assert await failures(database_url, ticket["id"]) == []


async def test_a_ticket_created_with_an_assignee_keeps_them(client):
    a, _ = await make_agent(client)
    b, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a, b)
    assert (await new_ticket(client, group, assignee_id=b))["assignee_id"] == b
    # b's ticket was not routed, so a is still the first in turn.
    assert (await new_ticket(client, group))["assignee_id"] == a


async def test_moving_a_ticket_into_a_routed_group_routes_it_and_audits_why(client, database_url):
    a, _ = await make_agent(client)
    group = await routed_group(client, "least_busy", a)
    ticket = await new_ticket(client, None)
    assert ticket["assignee_id"] is None
    moved = await update_ticket(client, ticket["id"], group_id=group)
    assert moved["assignee_id"] == a
    last = (await audits(client, ticket["id"]))[-1]
    assert last["via"] == "routing"
    assert last["actor_id"] is None
    assert last["changes"] == [
        {
            "field": "routing",
            "from": None,
            "to": {"group_id": group, "mode": "least_busy", "basis": "mode"},
        },
        {"field": "assignee_id", "from": None, "to": a},
    ]
    assigned = [
        e
        for e in await events_of(database_url, "ticket.assigned")
        if e["ticket_id"] == ticket["id"]
    ]
    assert [(e["actor_via"], e["data"]["ticket"]["assignee_id"]) for e in assigned] == [("api", a)]


async def test_unassigning_does_not_route_again(client):
    a, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a)
    ticket = await new_ticket(client, group)
    assert ticket["assignee_id"] == a
    assert (await update_ticket(client, ticket["id"], assignee_id=None))["assignee_id"] is None


async def test_away_and_offline_agents_are_passed_over(client):
    away, _ = await make_agent(client, availability="away")
    offline, _ = await make_agent(client, availability=None)  # never said: offline
    online, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", away, offline, online)
    assert {(await new_ticket(client, group))["assignee_id"] for _ in range(3)} == {online}


async def test_nobody_online_leaves_the_ticket_unassigned_and_says_why(client, database_url):
    a, headers = await make_agent(client)
    await set_availability(client, headers, "away")
    group = await routed_group(client, "round_robin", a)
    ticket = await new_ticket(client, group)
    assert ticket["assignee_id"] is None
    assert ticket["group_id"] == group
    [failure] = await failures(database_url, ticket["id"])
    assert failure["reason"] == "none_online"
    assert failure["group_id"] == group
    assert failure["mode"] == "round_robin"
    assert failure["required_skills"] == []
    assert failure["detail"]


async def test_availability_can_be_ignored(client):
    a, _ = await make_agent(client, availability="offline")
    group = await routed_group(client, "round_robin", a, respect_availability=False)
    assert (await new_ticket(client, group))["assignee_id"] == a


async def test_required_skills_pick_who_has_all_of_them(client):
    a, _ = await make_agent(client, skills=("product:router",))
    b, _ = await make_agent(client, skills=("product:router", "tier:2"))
    c, _ = await make_agent(client, skills=("tier:2",))
    group = await routed_group(client, "round_robin", a, b, c)
    for _ in range(2):
        ticket = await new_ticket(client, group, required_skills=["tier:2", "Product:Router"])
        assert ticket["assignee_id"] == b
        assert ticket["required_skills"] == ["product:router", "tier:2"]


async def test_no_skill_match_is_the_reason_even_when_others_are_online(client, database_url):
    a, _ = await make_agent(client, skills=("lang:it",))
    group = await routed_group(client, "least_busy", a)
    ticket = await new_ticket(client, group, required_skills=["tier:3"])
    assert ticket["assignee_id"] is None
    [failure] = await failures(database_url, ticket["id"])
    assert failure["reason"] == "no_skill_match"
    assert failure["required_skills"] == ["tier:3"]


async def test_required_skills_set_later_route_on_a_move(client):
    a, _ = await make_agent(client)
    b, _ = await make_agent(client, skills=("tier:2",))
    group = await routed_group(client, "round_robin", a, b)
    ticket = await new_ticket(client, None)
    moved = await update_ticket(client, ticket["id"], group_id=group, required_skills=["tier:2"])
    assert moved["assignee_id"] == b


async def test_a_group_without_agents_says_no_members(client, database_url):
    light, _ = await make_agent(client, role="light_agent", availability=None)
    group = await routed_group(client, "round_robin", light)
    ticket = await new_ticket(client, group)
    assert [f["reason"] for f in await failures(database_url, ticket["id"])] == ["no_members"]


async def test_deactivated_members_are_not_routed_to(client):
    a, _ = await make_agent(client)
    b, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a, b)
    assert (await client.delete(f"/v1/users/{a}", headers=ADMIN)).status_code == 204
    assert {(await new_ticket(client, group))["assignee_id"] for _ in range(2)} == {b}


async def test_capacity_is_a_hard_limit(client, database_url):
    a, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a, max_open_per_agent=2)
    assignees = [(await new_ticket(client, group))["assignee_id"] for _ in range(3)]
    assert assignees == [a, a, None]
    [failure] = await failures(database_url)
    assert failure["reason"] == "all_at_capacity"


async def test_language_prefers_a_speaker_of_the_requesters_locale(client):
    english, _ = await make_agent(client, skills=("lang:en",))
    italian, _ = await make_agent(client, skills=("lang:it",))
    group = await routed_group(client, "round_robin", english, italian, match_language=True)
    requester = await make_user(client, locale="it-CH")
    for _ in range(2):
        ticket = await new_ticket(client, group, requester_id=requester["id"])
        assert ticket["assignee_id"] == italian
    basis = (await audits(client, ticket["id"]))[-1]["changes"][0]["to"]["basis"]
    assert basis == "language"


async def test_language_falls_back_to_anyone_when_no_eligible_member_speaks_it(client):
    english, _ = await make_agent(client, skills=("lang:en",))
    italian, headers = await make_agent(client, skills=("lang:it",))
    await set_availability(client, headers, "offline")
    group = await routed_group(client, "round_robin", english, italian, match_language=True)
    requester = await make_user(client, locale="it")
    ticket = await new_ticket(client, group, requester_id=requester["id"])
    assert ticket["assignee_id"] == english


async def test_language_is_ignored_unless_the_group_opts_in(client):
    english, _ = await make_agent(client, skills=("lang:en",))
    italian, _ = await make_agent(client, skills=("lang:it",))
    group = await routed_group(client, "round_robin", english, italian)
    requester = await make_user(client, locale="it")
    first = await new_ticket(client, group, requester_id=requester["id"])
    assert first["assignee_id"] == english


async def _organization(client, manager_id):
    response = await client.post(
        "/v1/organizations",
        json={"name": f"VIP {manager_id}", "account_manager_id": manager_id},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_the_account_manager_gets_their_organisations_tickets(client):
    a, _ = await make_agent(client)
    manager, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a, manager, max_open_per_agent=2)
    vip = await make_user(client, organization_id=await _organization(client, manager))
    assignees = [
        (await new_ticket(client, group, requester_id=vip["id"]))["assignee_id"] for _ in range(3)
    ]
    # The manager until their capacity is reached; then the group's turn.
    assert assignees == [manager, manager, a]
    # Other customers' tickets go by the mode alone (a was routed to last: the manager next,
    # but the manager is full).
    assert (await new_ticket(client, group))["assignee_id"] == a


async def test_the_account_manager_is_preferred_only_in_their_groups(client):
    a, _ = await make_agent(client)
    manager, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a)
    vip = await make_user(client, organization_id=await _organization(client, manager))
    assert (await new_ticket(client, group, requester_id=vip["id"]))["assignee_id"] == a


async def test_an_offline_account_manager_is_passed_over(client):
    a, _ = await make_agent(client)
    manager, headers = await make_agent(client)
    await set_availability(client, headers, "away")
    group = await routed_group(client, "round_robin", manager, a)
    vip = await make_user(client, organization_id=await _organization(client, manager))
    assert (await new_ticket(client, group, requester_id=vip["id"]))["assignee_id"] == a


async def test_a_ticket_without_a_group_is_not_routed(client, database_url):
    await make_agent(client)
    ticket = await new_ticket(client, None)
    assert ticket["assignee_id"] is None
    assert await failures(database_url) == []


async def test_a_solved_ticket_is_not_routed(client, database_url):
    a, _ = await make_agent(client)
    group = await routed_group(client, "round_robin", a)
    ticket = await new_ticket(client, group, status_id=await status_id(client, "solved"))
    assert ticket["assignee_id"] is None
    assert await failures(database_url) == []
    assert (await get_ticket(client, ticket["id"]))["assignee_id"] is None


async def test_a_bulk_move_routes_each_ticket_and_counts_the_ones_before(client, database_url):
    a, _ = await make_agent(client)
    b, _ = await make_agent(client)
    group = await routed_group(client, "least_busy", a, b, max_open_per_agent=1)
    ids = [(await new_ticket(client, None))["id"] for _ in range(3)]
    response = await client.patch(
        "/v1/tickets", json={"ids": ids, "changes": {"group_id": group}}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    assert [t["assignee_id"] for t in response.json()["data"]] == [a, b, None]
    assert [f["reason"] for f in await failures(database_url)] == ["all_at_capacity"]

"""The requester rates signed in; nobody else rates, and each sees only what is theirs."""

import pytest

from tests.factories import (
    ADMIN,
    assert_problem,
    bearer,
    feed_once_visible,
    make_token,
    make_user,
    make_user_with_token,
)
from tests.satisfaction.helpers import events_of, set_status
from tests.tickets.factories import get_ticket, make_group, make_ticket


async def test_only_the_requester_rates_and_customers_list_only_their_own(
    client, database_url, clock
):
    agent, agent_headers = await make_user_with_token(client, role="agent")
    group = await make_group(client, "Routers", agent["id"])
    _customer, customer_headers = await make_user_with_token(client)
    other, other_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, customer_headers)
    ticket_id = ticket["id"]
    path = f"/v1/tickets/{ticket_id}/satisfaction"
    await client.patch(
        f"/v1/tickets/{ticket_id}",
        json={"assignee_id": agent["id"], "group_id": group["id"]},
        headers=ADMIN,
    )

    # Not solved yet: nothing to rate.
    state = (await client.get(path, headers=customer_headers)).json()
    assert (state["open"], state["rating"]) == (False, None)
    assert_problem(await client.put(path, json={"score": "good"}, headers=customer_headers), 409)

    await set_status(client, ticket_id, "solved")
    assert (await client.get(path, headers=customer_headers)).json()["open"] is True
    # Someone else's ticket: invisible to another customer; CC'd customers see, not rate.
    assert_problem(await client.put(path, json={"score": "bad"}, headers=other_headers), 404)
    assert_problem(await client.get(path, headers=other_headers), 404)
    cc = await client.put(f"/v1/tickets/{ticket_id}/ccs/{other['id']}", headers=ADMIN)
    assert cc.status_code in (200, 201, 204), cc.text
    assert_problem(await client.put(path, json={"score": "bad"}, headers=other_headers), 403)
    assert_problem(await client.get(path, headers=other_headers), 403)
    assert_problem(await client.put(path, json={"score": "bad"}, headers=agent_headers), 403)

    rated = await client.put(
        path, json={"score": "bad", "reason": "too_slow", "comment": "Took a week."},
        headers=customer_headers,
    )  # fmt: skip
    assert rated.status_code == 200, rated.text
    mine = rated.json()["rating"]
    assert (mine["score"], mine["reason"], mine["view"]) == ("bad", "too_slow", "customer")
    assert "assignee_id" not in mine
    assert "group_id" not in mine
    assert (await get_ticket(client, ticket_id))["satisfaction_score"] == "bad"
    assert "satisfaction_score" not in (await get_ticket(client, ticket_id, customer_headers))

    # Customers list their own ratings, in their shape, and may not filter by agent.
    own = (await client.get("/v1/satisfaction-ratings", headers=customer_headers)).json()
    assert [(r["ticket_id"], r["view"]) for r in own["data"]] == [(ticket_id, "customer")]
    assert (await client.get("/v1/satisfaction-ratings", headers=other_headers)).json() == {
        "data": [], "next_cursor": None,
    }  # fmt: skip
    assert_problem(
        await client.get(
            f"/v1/satisfaction-ratings?assignee_id={agent['id']}", headers=customer_headers
        ),
        403,
    )
    # Staff filter by agent, group, score and time; keyset pages.
    for query, expected in (
        (f"assignee_id={agent['id']}", [ticket_id]),
        (f"group_id={group['id']}", [ticket_id]),
        ("score=bad", [ticket_id]),
        ("score=good", []),
        ("rated_from=2026-11-23T09:00:00Z&rated_to=2026-11-23T09:00:01Z", [ticket_id]),
        ("rated_from=2026-11-24T00:00:00Z", []),
    ):
        page = await client.get(f"/v1/satisfaction-ratings?{query}", headers=agent_headers)
        assert [r["ticket_id"] for r in page.json()["data"]] == expected, query
    staff_view = (await client.get("/v1/satisfaction-ratings", headers=ADMIN)).json()["data"][0]
    assert (staff_view["assignee_id"], staff_view["group_id"]) == (agent["id"], group["id"])
    for bad in ("score=meh", "limit=101", "cursor=nonsense", "rated_from=yesterday", "agent=1"):
        assert_problem(await client.get(f"/v1/satisfaction-ratings?{bad}", headers=ADMIN), 422)

    # A group-restricted agent outside the group sees neither the rating nor its event.
    outsider = await make_user(client, role="agent", ticket_access="groups")

    outsider_headers = bearer(await make_token(client, outsider["id"]))
    listed = await client.get("/v1/satisfaction-ratings", headers=outsider_headers)
    assert listed.json()["data"] == []
    admin_feed = await feed_once_visible(client, "/v1/events?type=satisfaction.rated", ADMIN)
    assert [e["data"]["rating"]["ticket_id"] for e in admin_feed] == [ticket_id]
    # Asked after the admin saw it, so an empty page is the filter's, not the feed's lag.
    feed = (await client.get("/v1/events?type=satisfaction.rated", headers=outsider_headers)).json()
    assert feed["data"] == []
    assert [e["is_public"] for e in await events_of(database_url, ticket_id, "satisfaction.")] == [
        False
    ]


@pytest.mark.parametrize("settings", [{"satisfaction_bad_reopens": True}], indirect=True)
async def test_a_bad_rating_reopens_the_ticket_when_configured(client, clock):
    _, customer_headers = await make_user_with_token(client)
    ticket_id = (await make_ticket(client, customer_headers))["id"]
    await set_status(client, ticket_id, "solved")
    path = f"/v1/tickets/{ticket_id}/satisfaction"
    rated = await client.put(path, json={"score": "bad"}, headers=customer_headers)
    assert rated.status_code == 200, rated.text
    assert rated.json()["open"] is False  # reopened: this resolution's rating is over
    ticket = await get_ticket(client, ticket_id)
    assert (ticket["status"]["category"], ticket["satisfaction_score"]) == ("open", "bad")
    audits = (await client.get(f"/v1/tickets/{ticket_id}/audits", headers=ADMIN)).json()["data"]
    [audit] = [a for a in audits if a["via"] == "satisfaction"]
    assert {c["field"] for c in audit["changes"]} == {"satisfaction_score", "status"}
    assert_problem(await client.put(path, json={"score": "good"}, headers=customer_headers), 409)


@pytest.mark.parametrize("settings", [{"satisfaction_scale": "five_point"}], indirect=True)
async def test_the_five_point_scale_derives_the_score(client, clock):
    _, customer_headers = await make_user_with_token(client)
    ticket_id = (await make_ticket(client, customer_headers))["id"]
    await set_status(client, ticket_id, "solved")
    path = f"/v1/tickets/{ticket_id}/satisfaction"
    for body in ({"score": "good"}, {"rating": 5, "score": "bad"}, {"rating": 0}, {"rating": 6}):
        assert_problem(await client.put(path, json=body, headers=customer_headers), 422)
    rated = await client.put(path, json={"rating": 2}, headers=customer_headers)
    assert rated.status_code == 200, rated.text
    assert (rated.json()["scale"], rated.json()["rating"]["score"]) == ("five_point", "bad")
    assert rated.json()["rating"]["rating"] == 2
    four = await client.put(path, json={"rating": 4, "score": "good"}, headers=customer_headers)
    assert four.json()["rating"]["score"] == "good"

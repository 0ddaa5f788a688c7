"""Agent and group activity for a day built by hand."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.sla.helpers import FixedClock, make_calendar, make_policy, target
from tests.tickets.factories import comment, make_group, make_ticket, status_id, update_ticket

DAY = datetime(2026, 11, 23, tzinfo=UTC)
WINDOW = {"from": "2026-11-23T00:00:00Z", "to": "2026-11-24T00:00:00Z"}


def at(minutes: float) -> datetime:
    return DAY + timedelta(hours=9, minutes=minutes)


async def _rows(client: httpx.AsyncClient, by: str, headers: dict[str, str]) -> dict[Any, Any]:
    response = await client.get(f"/v1/reports/{by}", params=WINDOW, headers=headers)
    assert response.status_code == 200, response.text
    return {r["id"]: {k: v for k, v in r.items() if k != "id"} for r in response.json()["data"]}


async def test_solved_replies_csat_and_sla_per_agent_and_group(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    """T1 in G1 for A: A replies at 9:10 and 9:20, solves; rated good. T2 in G2 for B: B
    replies at 9:30, A at 9:40, B solves; rated bad. First reply due in 15 minutes."""
    calendar = await make_calendar(client, always_open=True, hours=[])
    await make_policy(client, calendar["id"], target("first_reply", 15))
    a, a_headers = await make_user_with_token(client, role="agent")
    b, b_headers = await make_user_with_token(client, role="agent")
    c, c_headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    g1 = await make_group(client, "First line", a["id"], c["id"])
    g2 = await make_group(client, "Second line", b["id"])
    (_, r1), (_, r2) = [await make_user_with_token(client) for _ in range(2)]
    clock.set(at(0))
    t1 = (await make_ticket(client, r1))["id"]
    t2 = (await make_ticket(client, r2))["id"]
    await update_ticket(client, t1, assignee_id=a["id"], group_id=g1["id"])
    await update_ticket(client, t2, assignee_id=b["id"], group_id=g2["id"])
    solved = await status_id(client, "solved")
    for minutes, ticket, headers in ((10, t1, a_headers), (20, t1, a_headers),
                                     (30, t2, b_headers), (40, t2, a_headers)):  # fmt: skip
        clock.set(at(minutes))
        assert (await comment(client, ticket, headers, body="Hi", public=True)).is_success
    clock.set(at(45))
    assert (await comment(client, t2, b_headers, body="note", public=False)).is_success
    clock.set(at(50))
    await update_ticket(client, t1, a_headers, status_id=solved)
    await update_ticket(client, t2, b_headers, status_id=solved)
    for ticket, headers, score in ((t1, r1, "good"), (t2, r2, "bad")):
        rated = await client.put(f"/v1/tickets/{ticket}/satisfaction", json={"score": score},
                                 headers=headers)  # fmt: skip
        assert rated.status_code == 200, rated.text

    def row(solved: int, replies: int, good: float | None, sla: float | None) -> dict[str, Any]:
        return {"solved": solved, "replies": replies, "csat_score": good,
                "csat_ratings": 0 if good is None else 1, "sla_achieved_rate": sla,
                "sla_measured": 0 if sla is None else 1}  # fmt: skip

    assert await _rows(client, "agents", ADMIN) == {
        a["id"]: row(1, 3, 1.0, 1.0),
        b["id"]: row(1, 1, 0.0, 0.0),
    }
    assert await _rows(client, "groups", ADMIN) == {
        g1["id"]: row(1, 2, 1.0, 1.0),
        g2["id"]: row(1, 2, 0.0, 0.0),
    }
    # C works in G1 only: G2's ticket and its figures are not theirs to see.
    assert await _rows(client, "groups", c_headers) == {g1["id"]: row(1, 2, 1.0, 1.0)}
    assert await _rows(client, "agents", c_headers) == {a["id"]: row(1, 2, 1.0, 1.0)}


async def test_activity_refuses_bad_ranges_and_customers(client: httpx.AsyncClient) -> None:
    for by in ("agents", "groups"):
        path = f"/v1/reports/{by}"
        backwards = {"from": WINDOW["to"], "to": WINDOW["from"]}
        assert_problem(await client.get(path, params=backwards, headers=ADMIN), 422)
        too_long = {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
        assert_problem(await client.get(path, params=too_long, headers=ADMIN), 422)
        assert_problem(await client.get(path, params={"from": "x"}, headers=ADMIN), 422)
        _, customer = await make_user_with_token(client)
        assert_problem(await client.get(path, params=WINDOW, headers=customer), 403)

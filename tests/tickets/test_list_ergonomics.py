"""What integrators expect of ticket lists (issue #16): sorts by several keys, lookups by ids
and external id, counts with the list's filters, and sideloaded users, groups and
organisations, with every bad parameter a 422 naming it."""

from typing import Any

import pytest

from tests.conftest import make_settings
from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.tickets.factories import make_group, make_ticket, status_id, update_ticket, walk

RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
STATUS = ["new", "open", "pending", "on_hold", "solved", "closed"]
TIMESTAMPS = {"created_at", "updated_at", "due_at"}


@pytest.fixture
def settings(database_url):
    """A count cap small enough to reach."""
    return make_settings(database_url, view_count_cap=3)


def _value(ticket: dict[str, Any], name: str) -> Any:
    return {
        "priority": lambda t: RANK[t["priority"]],
        "status": lambda t: STATUS.index(t["status"]["category"]),
        "requester": lambda t: t["requester_id"],
        "assignee": lambda t: t["assignee_id"] or 0,
    }.get(name, lambda t: t[name])(ticket)


def _expected(tickets: list[dict[str, Any]], sort: str) -> list[int]:
    """The promised order, worked out here: ties by id, after the last key's direction for
    a timestamp, ascending (older first) after any other key."""
    keys = [(k.lstrip("-"), k.startswith("-")) for k in sort.split(",")]
    rows = [t for t in tickets if all(_value(t, n) is not None for n, _ in keys)]
    last, last_descending = keys[-1]
    rows.sort(key=lambda t: t["id"], reverse=last_descending and last in TIMESTAMPS)
    for name, descending in reversed(keys):
        rows.sort(key=lambda t, name=name: _value(t, name), reverse=descending)
    return [t["id"] for t in rows]


async def _tickets(client: Any) -> list[int]:
    agent = await make_user(client, role="agent")
    ann, bob = await make_user(client), await make_user(client)
    pending, solved = await status_id(client, "pending"), await status_id(client, "solved")
    specs: list[dict[str, Any]] = [
        {"priority": "high", "requester_id": bob["id"], "due_at": "2026-12-03T10:00:00Z"},
        {"priority": "low", "requester_id": ann["id"], "assignee_id": agent["id"]},
        {"priority": "high", "requester_id": ann["id"], "due_at": "2026-12-01T10:00:00Z"},
        {"priority": "urgent", "requester_id": bob["id"], "assignee_id": agent["id"]},
        {"priority": "high", "requester_id": ann["id"], "due_at": "2026-12-01T10:00:00Z"},
        {"priority": "normal", "requester_id": bob["id"]},
        {"priority": "high", "requester_id": bob["id"]},
    ]
    ids = [(await make_ticket(client, type="task", **spec))["id"] for spec in specs]
    for index, status in ((0, pending), (3, pending), (4, solved), (6, solved)):
        await update_ticket(client, ids[index], status_id=status)
    return ids


SORTS = [
    "-priority",
    "status",
    "-status",
    "due_at",
    "-due_at",
    "requester",
    "-assignee",
    "status,-priority",
    "-priority,requester",
    "-due_at,status",
    "requester,-updated_at",
    "assignee,-status,created_at",
    "priority,-created_at",
]


async def test_every_sort_walks_every_page_in_the_promised_order(client):
    await _tickets(client)
    everything = [t for page in await walk(client, "/v1/tickets", limit=100) for t in page]
    for sort in SORTS:
        pages = await walk(client, "/v1/tickets", {"sort": sort}, limit=2)
        assert [t["id"] for page in pages for t in page] == _expected(everything, sort), sort
    # -priority: within the highs, the older ticket first.
    highs = [t["id"] for t in everything if t["priority"] == "high"]
    pages = await walk(client, "/v1/tickets", {"sort": "-priority"}, limit=100)
    assert [t["id"] for t in pages[0][1:5]] == sorted(highs)


async def test_ids_external_id_count_and_bad_parameters(client):
    ids = await _tickets(client)
    tagged = await make_ticket(client, external_id="crm-77")
    listed = await client.get(f"/v1/tickets?ids={ids[3]},{ids[1]},{ids[3]}", headers=ADMIN)
    assert [t["id"] for t in listed.json()["data"]] == sorted([ids[1], ids[3]], reverse=True)
    found = await client.get("/v1/tickets?external_id=crm-77", headers=ADMIN)
    assert [t["id"] for t in found.json()["data"]] == [tagged["id"]]

    async def count(query: str, headers: dict[str, str] = ADMIN) -> tuple[int, bool]:
        response = await client.get(f"/v1/tickets/count?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["count"], response.json()["capped"]

    assert await count("status_category=pending") == (2, False)
    assert await count(f"ids={ids[0]},{ids[1]}&priority=high") == (1, False)
    assert await count("priority=high") == (3, True)  # four highs, the cap is 3
    assert await count("external_id=crm-77") == (1, False)
    users = await client.get(f"/v1/users?ids={ids[0]},999999", headers=ADMIN)
    assert users.status_code == 200, users.text

    customer, customer_headers = await make_user_with_token(client)
    await make_ticket(client, requester_id=customer["id"])
    assert await count("", customer_headers) == (1, False)
    for path, name in [
        ("/v1/tickets?sort=bogus", "sort"),
        ("/v1/tickets?sort=status,-status", "sort"),
        ("/v1/tickets?sort=status,priority,requester,assignee", "sort"),
        ("/v1/tickets?sort=", "sort"),
        ("/v1/tickets?ids=1,x", "ids"),
        ("/v1/tickets?ids=0", "ids"),
        ("/v1/tickets?ids=" + ",".join(map(str, range(1, 102))), "ids"),
        ("/v1/tickets/count?ids=1,,2", "ids"),
        ("/v1/tickets?include=users,tickets", "include"),
        ("/v1/tickets/1?include=comments", "include"),
        ("/v1/views/1/tickets?include=bogus", "include"),
        ("/v1/users?ids=-1", "ids"),
        ("/v1/tickets/count?priority=extreme", "priority"),
    ]:
        body = assert_problem(await client.get(path, headers=ADMIN), 422)
        assert body["errors"][0]["loc"][:2] == ["query", name], path
    for path in ("/v1/tickets?sort=status,-priority", "/v1/tickets?sort=due_at",
                 "/v1/tickets?external_id=crm-77", "/v1/tickets/count?external_id=crm-77",
                 "/v1/users?ids=1"):  # fmt: skip
        assert_problem(await client.get(path, headers=customer_headers), 403)


async def test_include_sideloads_each_record_once_on_lists_views_and_reads(client):
    agent = await make_user(client, role="agent", name="Agnes Agent")
    organization = (
        await client.post("/v1/organizations", json={"name": "Acme"}, headers=ADMIN)
    ).json()
    requester = await make_user(client, name="Rita", organization_id=organization["id"])
    group = await make_group(client, "Tier 2", agent["id"])
    ticket = await make_ticket(
        client, requester_id=requester["id"], assignee_id=agent["id"], group_id=group["id"]
    )
    await make_ticket(client, requester_id=requester["id"])

    page = (
        await client.get("/v1/tickets?include=users,groups,organizations", headers=ADMIN)
    ).json()
    users = {u["id"]: u for u in page["users"]}
    assert set(users) == {requester["id"], agent["id"], ticket["submitter_id"]}
    assert users[agent["id"]]["email"] == agent["email"]
    assert users[requester["id"]]["organization_id"] == organization["id"]
    assert page["groups"] == [{"id": group["id"], "name": "Tier 2", "is_active": True}]
    assert page["organizations"] == [{"id": organization["id"], "name": "Acme"}]
    plain = (await client.get("/v1/tickets", headers=ADMIN)).json()
    assert set(plain) == {"data", "next_cursor"}  # nothing asked, nothing added

    read = (await client.get(f"/v1/tickets/{ticket['id']}?include=groups", headers=ADMIN)).json()
    assert (read["id"], read["groups"][0]["id"]) == (ticket["id"], group["id"])
    assert not {"users", "organizations"} & set(read)

    views = (await client.get("/v1/views", headers=ADMIN)).json()
    solved = next(v for v in views["data"] if v["title"] == "Recently solved")
    listed = await client.get(f"/v1/views/{solved['id']}/tickets?include=users", headers=ADMIN)
    assert listed.status_code == 200, listed.text
    assert listed.json()["users"] == []  # nothing solved, no one named
    assert "groups" not in listed.json()

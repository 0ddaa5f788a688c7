"""Ticket tags: one normalisation on every write, and exact counts at GET /v1/tags."""

from typing import Any

from tests.factories import ADMIN, assert_problem, make_user_with_token
from tests.tickets.factories import get_ticket, make_ticket, update_ticket, walk


async def tag_counts(client: Any, **params: Any) -> list[tuple[str, int]]:
    pages = await walk(client, "/v1/tags", params, limit=100)
    return [(t["name"], t["ticket_count"]) for page in pages for t in page]


async def patch(client: Any, ticket_id: int, **changes: Any) -> Any:
    return await client.patch(f"/v1/tickets/{ticket_id}", json=changes, headers=ADMIN)


# Normalisation


async def test_tags_are_normalised_on_create(client):
    ticket = await make_ticket(client, tags=["  Key Account ", "#VIP", "Billing"])

    assert ticket["tags"] == ["key_account", "vip", "billing"]
    assert (await get_ticket(client, ticket["id"]))["tags"] == ["key_account", "vip", "billing"]


async def test_duplicate_tags_are_merged_on_create(client):
    ticket = await make_ticket(client, tags=["vip", "#VIP", " Vip ", "key account", "KEY_ACCOUNT"])

    assert ticket["tags"] == ["vip", "key_account"]


async def test_inner_whitespace_runs_become_one_underscore(client):
    ticket = await make_ticket(client, tags=["Key \t  Account", "# spaced out "])

    assert ticket["tags"] == ["key_account", "spaced_out"]


async def test_tags_are_normalised_on_patch(client):
    ticket = await make_ticket(client)

    updated = await update_ticket(client, ticket["id"], tags=["  Key Account ", "#VIP", "vip"])

    assert updated["tags"] == ["key_account", "vip"]


async def test_patch_tags_replaces_them(client):
    ticket = await make_ticket(client, tags=["a", "b"])

    updated = await update_ticket(client, ticket["id"], tags=["C", "#d"])

    assert updated["tags"] == ["c", "d"]


async def test_patch_empty_tags_list_clears_them(client):
    ticket = await make_ticket(client, tags=["a", "b"])

    updated = await update_ticket(client, ticket["id"], tags=[])

    assert updated["tags"] == []


async def test_add_tags_appends_normalised_and_skips_present_ones(client):
    ticket = await make_ticket(client, tags=["a", "b"])

    updated = await update_ticket(client, ticket["id"], add_tags=["#B", "New Tag"])

    assert updated["tags"] == ["a", "b", "new_tag"]


async def test_remove_tags_removes_normalised_and_ignores_absent_ones(client):
    ticket = await make_ticket(client, tags=["a", "key_account", "c"])

    updated = await update_ticket(client, ticket["id"], remove_tags=["Key Account", "missing"])

    assert updated["tags"] == ["a", "c"]


async def test_add_and_remove_tags_together(client):
    ticket = await make_ticket(client, tags=["a", "b"])

    updated = await update_ticket(client, ticket["id"], add_tags=["c"], remove_tags=["A"])

    assert updated["tags"] == ["b", "c"]


async def test_tags_then_add_and_remove_in_one_request(client):
    ticket = await make_ticket(client, tags=["old"])

    updated = await update_ticket(
        client, ticket["id"], tags=["x", "y"], add_tags=["z"], remove_tags=["x"]
    )

    assert updated["tags"] == ["y", "z"]


async def test_unchanged_tags_write_no_audit(client):
    ticket = await make_ticket(client, tags=["a"])

    await update_ticket(client, ticket["id"], tags=["A"], add_tags=["#a"])

    audits = await client.get(f"/v1/tickets/{ticket['id']}/audits", headers=ADMIN)
    assert len(audits.json()["data"]) == 1


async def test_tag_change_is_audited(client):
    ticket = await make_ticket(client, tags=["a"])

    await update_ticket(client, ticket["id"], add_tags=["b"])

    audits = await client.get(f"/v1/tickets/{ticket['id']}/audits", headers=ADMIN)
    assert audits.json()["data"][-1]["changes"] == [
        {"field": "tags", "from": ["a"], "to": ["a", "b"]}
    ]


async def test_empty_tag_on_create_is_422_at_its_index(client):
    for empty in ["", "   ", "#", " # "]:
        response = await client.post(
            "/v1/tickets",
            json={"subject": "S", "comment": {"body": "B"}, "tags": ["ok", empty]},
            headers=ADMIN,
        )
        body = assert_problem(response, 422)
        assert body["errors"][0]["loc"] == ["body", "tags", 1], repr(empty)


async def test_too_long_tag_on_create_is_422_at_its_index(client):
    response = await client.post(
        "/v1/tickets",
        json={"subject": "S", "comment": {"body": "B"}, "tags": ["x" * 101]},
        headers=ADMIN,
    )

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "tags", 0]


async def test_tag_of_100_characters_is_accepted(client):
    ticket = await make_ticket(client, tags=["x" * 100])

    assert ticket["tags"] == ["x" * 100]


async def test_tag_of_100_characters_after_normalisation_is_accepted(client):
    ticket = await client.post(
        "/v1/tickets",
        json={"subject": "S", "comment": {"body": "B"}, "tags": ["#" + "x" * 100]},
        headers=ADMIN,
    )

    assert ticket.status_code == 201, ticket.text
    assert ticket.json()["tags"] == ["x" * 100]


async def test_empty_tag_on_patch_is_422_at_its_index_and_changes_nothing(client):
    ticket = await make_ticket(client, tags=["keep"])

    for empty in ["", "  ", "#"]:
        response = await patch(client, ticket["id"], tags=["a", "b", empty])
        body = assert_problem(response, 422)
        assert body["errors"][0]["loc"] == ["body", "tags", 2], repr(empty)

    assert (await get_ticket(client, ticket["id"]))["tags"] == ["keep"]


async def test_empty_remove_tag_is_422_at_its_index(client):
    ticket = await make_ticket(client, tags=["keep"])

    response = await patch(client, ticket["id"], remove_tags=["keep", "  "])

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "remove_tags", 1]
    assert (await get_ticket(client, ticket["id"]))["tags"] == ["keep"]


async def test_empty_add_tag_on_untagged_ticket_is_422_at_its_index(client):
    ticket = await make_ticket(client)

    response = await patch(client, ticket["id"], add_tags=["fine", "  "])

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "add_tags", 1]


async def test_empty_add_tag_on_tagged_ticket_is_422_at_its_index(client):
    ticket = await make_ticket(client, tags=["one", "two", "three"])

    response = await patch(client, ticket["id"], add_tags=["fine", "  "])

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "add_tags", 1]
    assert (await get_ticket(client, ticket["id"]))["tags"] == ["one", "two", "three"]


async def test_customer_setting_tags_on_create_is_403(client):
    _, customer_headers = await make_user_with_token(client)

    response = await client.post(
        "/v1/tickets",
        json={"subject": "S", "comment": {"body": "B"}, "tags": ["vip"]},
        headers=customer_headers,
    )

    body = assert_problem(response, 403)
    assert "tags" in body["detail"]
    assert await tag_counts(client) == []


async def test_customer_setting_tags_on_patch_is_403(client):
    customer, customer_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, requester_id=customer["id"])

    for field in ("tags", "add_tags", "remove_tags"):
        response = await client.patch(
            f"/v1/tickets/{ticket['id']}", json={field: ["vip"]}, headers=customer_headers
        )
        assert_problem(response, 403)


# GET /v1/tags


async def test_tag_counts_follow_create(client):
    await make_ticket(client, tags=["billing", "vip"])
    await make_ticket(client, tags=["billing"])

    assert await tag_counts(client) == [("billing", 2), ("vip", 1)]


async def test_tag_counts_follow_replace(client):
    first = await make_ticket(client, tags=["billing", "vip"])
    await make_ticket(client, tags=["billing"])

    await update_ticket(client, first["id"], tags=["vip", "refund"])

    assert await tag_counts(client) == [("billing", 1), ("refund", 1), ("vip", 1)]


async def test_tag_counts_follow_add(client):
    first = await make_ticket(client, tags=["billing"])
    second = await make_ticket(client)

    await update_ticket(client, first["id"], add_tags=["vip"])
    await update_ticket(client, second["id"], add_tags=["vip", "billing"])

    assert await tag_counts(client) == [("billing", 2), ("vip", 2)]


async def test_tag_counts_follow_remove_and_hide_zero(client):
    first = await make_ticket(client, tags=["billing", "vip"])
    second = await make_ticket(client, tags=["billing"])

    await update_ticket(client, first["id"], remove_tags=["vip", "billing"])

    assert await tag_counts(client) == [("billing", 1)]
    await update_ticket(client, second["id"], tags=[])
    assert await tag_counts(client) == []


async def test_tag_counts_come_back_after_zero(client):
    ticket = await make_ticket(client, tags=["vip"])
    await update_ticket(client, ticket["id"], tags=[])

    await make_ticket(client, tags=["vip"])

    assert await tag_counts(client) == [("vip", 1)]


async def test_tag_counts_do_not_move_for_an_unchanged_tag(client):
    ticket = await make_ticket(client, tags=["vip"])

    await update_ticket(client, ticket["id"], tags=["VIP"], add_tags=["#vip"])

    assert await tag_counts(client) == [("vip", 1)]


async def test_tag_counts_follow_bulk_update(client):
    ids = [(await make_ticket(client, tags=["old"]))["id"] for _ in range(3)]

    response = await client.patch(
        "/v1/tickets",
        json={"ids": ids[:2], "changes": {"add_tags": ["new"], "remove_tags": ["old"]}},
        headers=ADMIN,
    )

    assert response.status_code == 200, response.text
    assert await tag_counts(client) == [("new", 2), ("old", 1)]


async def test_tag_counts_unchanged_by_a_refused_update(client):
    ticket = await make_ticket(client, tags=["vip"])

    response = await patch(client, ticket["id"], tags=["other"], requester_id=999_999)

    assert_problem(response, 422)
    assert await tag_counts(client) == [("vip", 1)]


async def test_tags_are_listed_most_used_first_then_by_name(client):
    await make_ticket(client, tags=["zeta", "alpha", "mid"])
    await make_ticket(client, tags=["zeta", "mid"])
    await make_ticket(client, tags=["zeta", "beta"])

    assert await tag_counts(client) == [("zeta", 3), ("mid", 2), ("alpha", 1), ("beta", 1)]


async def test_tags_prefix_q(client):
    await make_ticket(client, tags=["billing", "bill_pay", "shipping"])
    await make_ticket(client, tags=["billing"])

    assert await tag_counts(client, q="bil") == [("billing", 2), ("bill_pay", 1)]
    assert await tag_counts(client, q="Bil") == [("billing", 2), ("bill_pay", 1)]
    assert await tag_counts(client, q="ship") == [("shipping", 1)]
    assert await tag_counts(client, q="ping") == []


async def test_tags_prefix_q_matches_underscore_and_percent_literally(client):
    await make_ticket(client, tags=["bill_pay", "billing", "50%_off", "500_club"])

    assert await tag_counts(client, q="bill_") == [("bill_pay", 1)]
    assert await tag_counts(client, q="50%") == [("50%_off", 1)]


async def test_tags_pagination_walks_every_tag_once_in_order(client):
    await make_ticket(client, tags=["a", "b", "c", "d", "e"])
    await make_ticket(client, tags=["c", "e"])
    await make_ticket(client, tags=["e"])

    pages = await walk(client, "/v1/tags", limit=2)

    assert [len(p) for p in pages] == [2, 2, 1]
    assert [t["name"] for page in pages for t in page] == ["e", "c", "a", "b", "d"]


async def test_tags_cursor_from_ticket_list_is_422(client):
    for _ in range(2):
        await make_ticket(client, tags=["vip"])
    tickets = await client.get("/v1/tickets?limit=1", headers=ADMIN)

    response = await client.get(
        "/v1/tags", params={"cursor": tickets.json()["next_cursor"]}, headers=ADMIN
    )

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "cursor"]


async def test_tags_limit_101_is_422(client):
    response = await client.get("/v1/tags?limit=101", headers=ADMIN)

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "limit"]


async def test_tags_by_customer_is_403(client):
    _, customer_headers = await make_user_with_token(client)

    assert_problem(await client.get("/v1/tags", headers=customer_headers), 403)


async def test_tags_by_light_agent_is_allowed(client):
    _, light_headers = await make_user_with_token(client, role="light_agent")
    await make_ticket(client, tags=["vip"])

    response = await client.get("/v1/tags", headers=light_headers)

    assert response.status_code == 200, response.text
    assert response.json()["data"] == [{"name": "vip", "ticket_count": 1}]


async def test_tag_prefix_search_is_normalised_like_tags(client):
    await make_ticket(client, tags=["Key Account", "vip"])
    found = await client.get("/v1/tags", params={"q": "#Key Acc"}, headers=ADMIN)
    assert [t["name"] for t in found.json()["data"]] == ["key_account"]

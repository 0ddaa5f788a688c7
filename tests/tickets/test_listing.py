"""GET /v1/tickets: every filter, every sort, cursor pagination, and who may filter by what."""

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.tickets.factories import (
    comment,
    listed_ids,
    make_group,
    make_ticket,
    status_id,
    update_ticket,
    walk,
)

SORTS = ["created_at", "-created_at", "updated_at", "-updated_at", "priority", "-priority"]


async def test_status_category_is_repeatable(client):
    new = await make_ticket(client)
    opened = await make_ticket(client)
    pending = await make_ticket(client)
    await update_ticket(client, opened["id"], status_id=await status_id(client, "open"))
    await update_ticket(client, pending["id"], status_id=await status_id(client, "pending"))

    assert await listed_ids(client, {"status_category": "open"}) == [opened["id"]]
    both = await listed_ids(
        client, [("status_category", "new"), ("status_category", "pending"), ("sort", "created_at")]
    )
    assert both == [new["id"], pending["id"]]


async def test_status_category_unknown_is_422(client):
    response = await client.get("/v1/tickets?status_category=resting", headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"][:2] == ["query", "status_category"]


async def test_status_id_filters_one_status_of_a_category(client):
    custom = await client.post(
        "/v1/ticket-statuses",
        json={"category": "open", "agent_label": "Waiting for vendor"},
        headers=ADMIN,
    )
    assert custom.status_code == 201, custom.text
    default_open = await make_ticket(client, status_id=await status_id(client, "open"))
    vendor = await make_ticket(client, status_id=custom.json()["id"])

    assert await listed_ids(client, {"status_id": custom.json()["id"]}) == [vendor["id"]]
    assert await listed_ids(client, {"status_category": "open", "sort": "created_at"}) == [
        default_open["id"],
        vendor["id"],
    ]


async def test_assignee_id_by_id(client):
    agent = await make_user(client, role="agent")
    colleague = await make_user(client, role="agent")
    mine = await make_ticket(client, assignee_id=agent["id"])
    await make_ticket(client)
    await make_ticket(client, assignee_id=colleague["id"])

    assert await listed_ids(client, {"assignee_id": agent["id"]}) == [mine["id"]]


async def test_assignee_id_me_is_the_caller(client):
    agent, agent_headers = await make_user_with_token(client, role="agent")
    mine = await make_ticket(client, assignee_id=agent["id"])
    admins = await make_ticket(client)
    await update_ticket(client, admins["id"], assignee_id="me")

    assert await listed_ids(client, {"assignee_id": "me"}, agent_headers) == [mine["id"]]
    assert await listed_ids(client, {"assignee_id": "me"}) == [admins["id"]]


async def test_assignee_id_none_is_unassigned(client):
    agent = await make_user(client, role="agent")
    await make_ticket(client, assignee_id=agent["id"])
    first = await make_ticket(client)
    second = await make_ticket(client)

    unassigned = await listed_ids(client, {"assignee_id": "none", "sort": "created_at"})
    assert unassigned == [first["id"], second["id"]]


async def test_assignee_id_not_an_id_me_or_none_is_422(client):
    for value in ["someone", "ME", "0", "-3", "1.5", "9223372036854775808", "", "x" * 21]:
        response = await client.get("/v1/tickets", params={"assignee_id": value}, headers=ADMIN)
        body = assert_problem(response, 422)
        assert body["errors"][0]["loc"] == ["query", "assignee_id"], value


async def test_group_id(client):
    agent = await make_user(client, role="agent")
    first = await make_group(client, "Billing", agent["id"])
    second = await make_group(client, "Shipping", agent["id"])
    billing = await make_ticket(client, group_id=first["id"])
    await make_ticket(client, group_id=second["id"])
    await make_ticket(client)

    assert await listed_ids(client, {"group_id": first["id"]}) == [billing["id"]]


async def test_requester_id(client):
    alice = await make_user(client)
    bob = await make_user(client)
    hers = await make_ticket(client, requester_id=alice["id"])
    await make_ticket(client, requester_id=bob["id"])

    assert await listed_ids(client, {"requester_id": alice["id"]}) == [hers["id"]]


async def test_organization_id(client):
    created = await client.post("/v1/organizations", json={"name": "Acme"}, headers=ADMIN)
    assert created.status_code == 201, created.text
    organization = created.json()
    member = await make_user(client, organization_id=organization["id"])
    outsider = await make_user(client)
    theirs = await make_ticket(client, requester_id=member["id"])
    await make_ticket(client, requester_id=outsider["id"])

    assert theirs["organization_id"] == organization["id"]
    assert await listed_ids(client, {"organization_id": organization["id"]}) == [theirs["id"]]


async def test_tag_repeated_means_every_tag(client):
    both = await make_ticket(client, tags=["billing", "vip"])
    await make_ticket(client, tags=["billing"])
    await make_ticket(client, tags=["vip"])

    assert await listed_ids(client, [("tag", "billing"), ("tag", "vip")]) == [both["id"]]


async def test_tag_single_matches_every_ticket_carrying_it(client):
    first = await make_ticket(client, tags=["billing", "vip"])
    second = await make_ticket(client, tags=["billing"])
    await make_ticket(client, tags=["vip"])

    found = await listed_ids(client, {"tag": "billing", "sort": "created_at"})
    assert found == [first["id"], second["id"]]


async def test_tag_filter_is_normalised(client):
    tagged = await make_ticket(client, tags=["billing"])
    await make_ticket(client)

    for written in ["Billing", "#billing", "  BILLING "]:
        assert await listed_ids(client, {"tag": written}) == [tagged["id"]], written


async def test_tag_filter_normalises_inner_spaces(client):
    tagged = await make_ticket(client, tags=["key_account"])

    assert await listed_ids(client, {"tag": "Key Account"}) == [tagged["id"]]


async def test_empty_tag_filter_is_422(client):
    response = await client.get("/v1/tickets", params={"tag": "  "}, headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"][:2] == ["query", "tag"]


async def test_priority_is_repeatable(client):
    urgent = await make_ticket(client, priority="urgent")
    await make_ticket(client, priority="normal")
    low = await make_ticket(client, priority="low")
    await make_ticket(client, priority="high")

    found = await listed_ids(
        client, [("priority", "urgent"), ("priority", "low"), ("sort", "created_at")]
    )
    assert found == [urgent["id"], low["id"]]


async def test_priority_unknown_is_422(client):
    response = await client.get("/v1/tickets?priority=critical", headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"][:2] == ["query", "priority"]


async def test_type(client):
    incident = await make_ticket(client, type="incident")
    await make_ticket(client, type="question")
    await make_ticket(client)

    assert await listed_ids(client, {"type": "incident"}) == [incident["id"]]


async def test_channel(client):
    mail = await make_ticket(client, channel="email")
    await make_ticket(client, channel="phone")
    await make_ticket(client)

    assert await listed_ids(client, {"channel": "email"}) == [mail["id"]]


async def test_created_after_is_inclusive_and_created_before_exclusive(client):
    tickets = [await make_ticket(client) for _ in range(4)]
    ids = [t["id"] for t in tickets]

    after = await listed_ids(
        client, {"created_after": tickets[1]["created_at"], "sort": "created_at"}
    )
    assert after == ids[1:]
    before = await listed_ids(
        client, {"created_before": tickets[2]["created_at"], "sort": "created_at"}
    )
    assert before == ids[:2]
    window = await listed_ids(
        client,
        {
            "created_after": tickets[1]["created_at"],
            "created_before": tickets[3]["created_at"],
            "sort": "created_at",
        },
    )
    assert window == ids[1:3]


async def test_updated_after_and_before_follow_changes(client):
    first, second, third = [await make_ticket(client) for _ in range(3)]
    touched = await update_ticket(client, first["id"], subject="Printer still on fire")

    after = await listed_ids(client, {"updated_after": touched["updated_at"]})
    assert after == [first["id"]]
    before = await listed_ids(
        client, {"updated_before": touched["updated_at"], "sort": "updated_at"}
    )
    assert before == [second["id"], third["id"]]
    window = await listed_ids(
        client,
        {
            "updated_after": second["updated_at"],
            "updated_before": touched["updated_at"],
            "sort": "updated_at",
        },
    )
    assert window == [second["id"], third["id"]]


async def test_created_after_not_an_rfc3339_time_is_422(client):
    for value in ["yesterday", "2026-11-22", "2026-11-22T10:00:00", "1700000000"]:
        response = await client.get("/v1/tickets", params={"created_after": value}, headers=ADMIN)
        body = assert_problem(response, 422)
        assert body["errors"][0]["loc"] == ["query", "created_after"], value


async def test_offset_timestamps_are_compared_as_instants(client):
    ticket = await make_ticket(client)
    created = datetime.fromisoformat(ticket["created_at"])
    shifted = created.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()

    assert await listed_ids(client, {"created_after": shifted}) == [ticket["id"]]
    assert await listed_ids(client, {"created_before": shifted}) == []


async def test_filters_combine(client):
    agent = await make_user(client, role="agent")
    match = await make_ticket(client, assignee_id=agent["id"], priority="high", tags=["vip"])
    await make_ticket(client, assignee_id=agent["id"], priority="low", tags=["vip"])
    await make_ticket(client, priority="high", tags=["vip"])
    await make_ticket(client, assignee_id=agent["id"], priority="high")

    found = await listed_ids(client, {"assignee_id": agent["id"], "priority": "high", "tag": "vip"})
    assert found == [match["id"]]


# Full text


async def test_q_finds_subject_words(client):
    hit = await make_ticket(client, subject="Invoice overdue", comment={"body": "Please help"})
    await make_ticket(client, subject="Password reset", comment={"body": "Please help"})

    assert await listed_ids(client, {"q": "invoice"}) == [hit["id"]]


async def test_q_finds_words_of_later_comments(client):
    hit = await make_ticket(client)
    await make_ticket(client)
    reply = await comment(client, hit["id"], ADMIN, body="Replaced the toner cartridge")
    assert reply.status_code == 201, reply.text

    assert await listed_ids(client, {"q": "cartridge"}) == [hit["id"]]


async def test_q_is_case_insensitive(client):
    hit = await make_ticket(client, subject="VPN keeps dropping")

    assert await listed_ids(client, {"q": "vpn"}) == [hit["id"]]
    assert await listed_ids(client, {"q": "Dropping"}) == [hit["id"]]


async def test_q_with_several_words_needs_all_of_them(client):
    both = await make_ticket(client, subject="Printer jam", comment={"body": "Paper stuck"})
    await make_ticket(client, subject="Printer offline", comment={"body": "No network"})

    assert await listed_ids(client, {"q": "printer jam"}) == [both["id"]]
    assert await listed_ids(client, {"q": "paper stuck"}) == [both["id"]]


async def test_q_finds_words_in_italian_russian_and_hungarian(client):
    italian = await make_ticket(
        client, subject="Problema di stampa", comment={"body": "La stampante dell'ufficio è rotta."}
    )
    russian = await make_ticket(
        client, subject="Не работает принтер", comment={"body": "Бумага застряла в лотке."}
    )
    hungarian = await make_ticket(
        client, subject="Nyomtatási hiba", comment={"body": "Az irodai nyomtató nem működik."}
    )
    await make_ticket(client)

    assert await listed_ids(client, {"q": "stampante"}) == [italian["id"]]
    assert await listed_ids(client, {"q": "принтер"}) == [russian["id"]]
    assert await listed_ids(client, {"q": "застряла"}) == [russian["id"]]
    assert await listed_ids(client, {"q": "nyomtató"}) == [hungarian["id"]]
    assert await listed_ids(client, {"q": "működik"}) == [hungarian["id"]]


async def test_q_matches_capitalised_non_latin_words_in_any_case(client):
    """Words that start a sentence are stored capitalised; searches come in any case."""
    russian = await make_ticket(client, subject="Help", comment={"body": "Принтер не печатает."})
    hungarian = await make_ticket(client, subject="Help", comment={"body": "Nyomtató hiba."})
    italian = await make_ticket(client, subject="Help", comment={"body": "Stampante rotta."})

    for word, ticket in [("принтер", russian), ("nyomtató", hungarian), ("stampante", italian)]:
        assert await listed_ids(client, {"q": word}) == [ticket["id"]], word
        assert await listed_ids(client, {"q": word.upper()}) == [ticket["id"]], word


async def test_q_private_note_found_by_staff_not_by_customer(client):
    customer, customer_headers = await make_user_with_token(client)
    ticket = await make_ticket(client, requester_id=customer["id"])
    note = await comment(
        client, ticket["id"], ADMIN, body="Refund approved by finance", public=False
    )
    assert note.status_code == 201, note.text

    assert await listed_ids(client, {"q": "finance"}) == [ticket["id"]]
    assert await listed_ids(client, {"q": "finance"}, customer_headers) == []
    # The same customer finds the ticket by its public words.
    assert await listed_ids(client, {"q": "fire"}, customer_headers) == [ticket["id"]]


async def test_q_punctuation_only_finds_nothing_and_is_not_an_error(client):
    await make_ticket(client)

    assert await listed_ids(client, {"q": "!!! & | :*"}) == []


async def test_q_too_long_is_422(client):
    response = await client.get("/v1/tickets", params={"q": "x" * 201}, headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "q"]


# Sorting and pagination


async def _five_tickets(client: Any) -> list[int]:
    """Five tickets with known creation order, updates and priorities.

    created: 1 2 3 4 5; updated afterwards: 3 then 1, so updated order is 2 4 5 3 1;
    priorities: 1 high, 2 low, 3 urgent, 4 normal, 5 high.
    """
    priorities = ["high", "low", "urgent", "normal", "high"]
    ids = [(await make_ticket(client, priority=p))["id"] for p in priorities]
    await update_ticket(client, ids[2], subject="Changed first")
    await update_ticket(client, ids[0], subject="Changed last")
    return ids


def _expected(ids: list[int], sort: str) -> list[int]:
    t1, t2, t3, t4, t5 = ids
    return {
        "created_at": [t1, t2, t3, t4, t5],
        "-created_at": [t5, t4, t3, t2, t1],
        "updated_at": [t2, t4, t5, t3, t1],
        "-updated_at": [t1, t3, t5, t4, t2],
        # Ties (the two highs): older first, whichever the direction.
        "priority": [t2, t4, t1, t5, t3],
        "-priority": [t3, t1, t5, t4, t2],
    }[sort]


@pytest.mark.parametrize("sort", SORTS)
async def test_sort_walks_every_page_in_order(client, sort):
    ids = await _five_tickets(client)

    pages = await walk(client, "/v1/tickets", {"sort": sort}, limit=2)

    assert [len(p) for p in pages] == [2, 2, 1]
    order = [t["id"] for page in pages for t in page]
    assert order == _expected(ids, sort)
    assert sorted(order) == sorted(ids)


async def test_default_sort_is_most_recently_updated_first(client):
    ids = await _five_tickets(client)

    assert await listed_ids(client) == _expected(ids, "-updated_at")


async def test_a_new_comment_moves_a_ticket_first_in_the_default_sort(client):
    first = await make_ticket(client)
    second = await make_ticket(client)
    reply = await comment(client, first["id"], ADMIN, body="Any news?", public=False)
    assert reply.status_code == 201, reply.text

    assert await listed_ids(client) == [first["id"], second["id"]]


async def test_last_full_page_has_no_next_cursor(client):
    for _ in range(4):
        await make_ticket(client)

    pages = await walk(client, "/v1/tickets", {"sort": "created_at"}, limit=2)

    assert [len(p) for p in pages] == [2, 2]


async def test_pagination_keeps_filters(client):
    tagged = [(await make_ticket(client, tags=["vip"]))["id"] for _ in range(3)]
    for _ in range(2):
        await make_ticket(client)

    pages = await walk(client, "/v1/tickets", {"tag": "vip", "sort": "created_at"}, limit=2)

    assert [t["id"] for page in pages for t in page] == tagged


async def test_ticket_created_during_a_walk_does_not_shift_pages(client):
    first = [(await make_ticket(client))["id"] for _ in range(3)]
    page = await client.get("/v1/tickets?sort=created_at&limit=2", headers=ADMIN)
    late = await make_ticket(client)

    rest = await client.get(
        "/v1/tickets",
        params={"sort": "created_at", "limit": 10, "cursor": page.json()["next_cursor"]},
        headers=ADMIN,
    )

    assert [t["id"] for t in rest.json()["data"]] == [first[2], late["id"]]


@pytest.mark.parametrize(
    ("issued_by", "used_with"),
    [
        ("created_at", "-created_at"),
        ("created_at", "updated_at"),
        ("-updated_at", "priority"),
        ("priority", "-priority"),
    ],
)
async def test_cursor_from_another_sort_is_422(client, issued_by, used_with):
    for _ in range(3):
        await make_ticket(client)
    page = await client.get(f"/v1/tickets?sort={issued_by}&limit=1", headers=ADMIN)
    cursor = page.json()["next_cursor"]
    assert cursor

    response = await client.get(
        "/v1/tickets", params={"sort": used_with, "cursor": cursor}, headers=ADMIN
    )

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "cursor"]


async def test_cursor_from_another_list_is_422(client):
    await make_ticket(client)
    await make_user(client)
    users = await client.get("/v1/users?limit=1", headers=ADMIN)
    cursor = users.json()["next_cursor"]
    assert cursor

    response = await client.get("/v1/tickets", params={"cursor": cursor}, headers=ADMIN)

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "cursor"]


async def test_garbled_cursor_is_422(client):
    for cursor in ["garbage", "eyJvIjoxfQ", "!!!", "e30"]:
        response = await client.get("/v1/tickets", params={"cursor": cursor}, headers=ADMIN)
        body = assert_problem(response, 422)
        assert body["errors"][0]["loc"] == ["query", "cursor"], cursor


async def test_unknown_sort_is_422(client):
    response = await client.get("/v1/tickets?sort=subject", headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "sort"]


async def test_limit_101_is_422(client):
    response = await client.get("/v1/tickets?limit=101", headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "limit"]


async def test_limit_0_is_422(client):
    response = await client.get("/v1/tickets?limit=0", headers=ADMIN)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "limit"]


async def test_limit_100_is_accepted(client):
    response = await client.get("/v1/tickets?limit=100", headers=ADMIN)
    assert response.status_code == 200, response.text


# Who sees what


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("assignee_id", "me"),
        ("group_id", "1"),
        ("tag", "vip"),
        ("priority", "high"),
        ("status_id", "1"),
        ("organization_id", "1"),
    ],
)
async def test_customer_using_a_staff_only_filter_is_403(client, name, value):
    _, customer_headers = await make_user_with_token(client)

    response = await client.get("/v1/tickets", params={name: value}, headers=customer_headers)

    body = assert_problem(response, 403)
    assert name in body["detail"]


async def test_customer_lists_only_own_tickets_in_customer_shape(client):
    customer, customer_headers = await make_user_with_token(client)
    own = await make_ticket(client, requester_id=customer["id"], tags=["vip"])
    await make_ticket(client)

    response = await client.get("/v1/tickets", headers=customer_headers)

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [t["id"] for t in data] == [own["id"]]
    assert "tags" not in data[0]
    assert "assignee_id" not in data[0]


async def test_customer_may_use_customer_filters(client):
    customer, customer_headers = await make_user_with_token(client)
    email = await make_ticket(client, requester_id=customer["id"], channel="email", type="question")
    await make_ticket(client, requester_id=customer["id"])

    params = {
        "status_category": "new",
        "requester_id": customer["id"],
        "type": "question",
        "channel": "email",
        "created_after": email["created_at"],
        "sort": "-created_at",
    }
    assert await listed_ids(client, params, customer_headers) == [email["id"]]


async def test_light_agent_may_use_staff_filters(client):
    _, light_headers = await make_user_with_token(client, role="light_agent")
    vip = await make_ticket(client, tags=["vip"], priority="high")
    await make_ticket(client)

    found = await listed_ids(client, {"tag": "vip", "priority": "high"}, light_headers)
    assert found == [vip["id"]]


async def test_group_restricted_agent_lists_only_their_groups_and_assignments(client):
    agent, agent_headers = await make_user_with_token(client, role="agent", ticket_access="groups")
    theirs = await make_group(client, "Tier 1", agent["id"])
    other = await make_group(client, "Tier 2")
    in_group = await make_ticket(client, group_id=theirs["id"])
    await make_ticket(client, group_id=other["id"])
    await make_ticket(client)
    assigned = await make_ticket(client, assignee_id=agent["id"])

    found = await listed_ids(client, {"sort": "created_at"}, agent_headers)
    assert found == [in_group["id"], assigned["id"]]
    assert await listed_ids(client, {"group_id": other["id"]}, agent_headers) == []


async def test_listing_without_token_is_401(client):
    response = await client.get("/v1/tickets")
    assert_problem(response, 401)


async def test_customer_cannot_sort_by_hidden_priority(client):
    _, headers = await make_user_with_token(client)
    for sort in ("priority", "-priority"):
        response = await client.get("/v1/tickets", params={"sort": sort}, headers=headers)
        assert_problem(response, 403)

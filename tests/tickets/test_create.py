import pytest

from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token
from tests.tickets.factories import make_ticket


async def test_agent_opens_ticket_for_existing_customer_found_by_email(client):
    customer = await make_user(client, email="maria@example.it")
    ticket = await make_ticket(
        client, requester={"email": "MARIA@example.it", "name": "Someone Else"}
    )
    assert ticket["requester_id"] == customer["id"]
    users = (await client.get("/v1/users?role=customer", headers=ADMIN)).json()["data"]
    assert [u["id"] for u in users] == [customer["id"]]


async def test_unknown_requester_email_creates_the_customer(client):
    ticket = await make_ticket(client, requester={"email": "new@example.ro", "name": "Ion"})
    requester = (await client.get(f"/v1/users/{ticket['requester_id']}", headers=ADMIN)).json()
    assert requester["role"] == "customer"
    assert requester["name"] == "Ion"
    assert requester["email"] == "new@example.ro"


async def test_customer_is_the_requester_of_their_own_ticket(client):
    me, headers = await make_user_with_token(client)
    ticket = await make_ticket(client, headers=headers, channel="web")
    assert ticket["requester_id"] == me["id"]
    assert ticket["channel"] == "web"
    assert "priority" not in ticket
    assert "tags" not in ticket


async def test_ticket_without_requester_is_the_agents_own(client):
    agent, headers = await make_user_with_token(client, role="agent")
    ticket = await make_ticket(client, headers=headers)
    assert ticket["requester_id"] == agent["id"]
    assert ticket["submitter_id"] == agent["id"]


@pytest.mark.parametrize(
    "field",
    [
        {"assignee_id": 1},
        {"priority": "urgent"},
        {"tags": ["vip"]},
        {"status_id": 1},
        {"external_id": "x"},
        {"requester": {"email": "other@example.com"}},
    ],
)
async def test_customer_cannot_set_staff_fields(client, field):
    _, headers = await make_user_with_token(client)
    response = await client.post(
        "/v1/tickets", json={"subject": "s", "comment": {"body": "b"}, **field}, headers=headers
    )
    assert_problem(response, 403)
    assert (await client.get("/v1/tickets", headers=ADMIN)).json()["data"] == []


async def test_customer_cannot_open_ticket_for_someone_else(client):
    other = await make_user(client)
    _, headers = await make_user_with_token(client)
    body = {"subject": "s", "comment": {"body": "b"}, "requester_id": other["id"]}
    assert_problem(await client.post("/v1/tickets", json=body, headers=headers), 403)


async def test_light_agent_cannot_open_tickets(client):
    _, headers = await make_user_with_token(client, role="light_agent")
    body = {"subject": "s", "comment": {"body": "b"}}
    assert_problem(await client.post("/v1/tickets", json=body, headers=headers), 403)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status_id", 999),
        ("group_id", 999),
        ("assignee_id", 999),
        ("requester_id", 999),
    ],
)
async def test_unknown_references_are_422_naming_the_field(client, field, value):
    body = {"subject": "s", "comment": {"body": "b"}, field: value}
    problem = assert_problem(await client.post("/v1/tickets", json=body, headers=ADMIN), 422)
    assert problem["errors"][0]["loc"] == ["body", field]
    assert (await client.get("/v1/tickets", headers=ADMIN)).json()["data"] == []


async def test_bad_shapes_are_422(client):
    cases = [
        {"subject": "", "comment": {"body": "b"}},
        {"subject": "s"},
        {"subject": "s", "comment": {}},
        {"subject": "s", "comment": {"body": "b"}, "priority": "critical"},
        {"subject": "s", "comment": {"body": "b"}, "channel": "fax"},
        {"subject": "s", "comment": {"body": "b"}, "requester_id": "1"},
        {
            "subject": "s",
            "comment": {"body": "b"},
            "requester_id": 1,
            "requester": {"email": "a@b.co"},
        },
        {"subject": "s", "comment": {"body": "b"}, "unknown": 1},
        {"subject": "s", "comment": {"body": "b", "public": "yes"}},
    ]
    for body in cases:
        assert_problem(await client.post("/v1/tickets", json=body, headers=ADMIN), 422)


async def test_due_date_belongs_to_tasks_only(client):
    body = {"subject": "s", "comment": {"body": "b"}, "due_at": "2026-12-01T10:00:00Z"}
    problem = assert_problem(await client.post("/v1/tickets", json=body, headers=ADMIN), 422)
    assert problem["errors"][0]["loc"] == ["body", "due_at"]
    task = await make_ticket(client, type="task", due_at="2026-12-01T10:00:00Z")
    assert task["due_at"] == "2026-12-01T10:00:00Z"


async def test_external_id_is_unique(client):
    await make_ticket(client, external_id="crm-42")
    body = {"subject": "s", "comment": {"body": "b"}, "external_id": "crm-42"}
    assert_problem(await client.post("/v1/tickets", json=body, headers=ADMIN), 409)


# The default matrix, ITIL-style.
MATRIX = [
    ("high", "high", "urgent"),
    ("high", "medium", "high"),
    ("medium", "high", "high"),
    ("high", "low", "normal"),
    ("medium", "medium", "normal"),
    ("low", "high", "normal"),
    ("medium", "low", "low"),
    ("low", "medium", "low"),
    ("low", "low", "low"),
]


@pytest.mark.parametrize(("impact", "urgency", "priority"), MATRIX)
async def test_priority_derives_from_impact_and_urgency(client, impact, urgency, priority):
    ticket = await make_ticket(client, impact=impact, urgency=urgency)
    assert ticket["priority"] == priority


async def test_explicit_priority_wins_and_default_is_normal(client):
    assert (await make_ticket(client))["priority"] == "normal"
    explicit = await make_ticket(client, impact="low", urgency="low", priority="urgent")
    assert explicit["priority"] == "urgent"


async def test_priority_follows_an_edited_matrix_and_impact_changes(client):
    matrix = (await client.get("/v1/priority-matrix", headers=ADMIN)).json()["cells"]
    for cell in matrix:
        if (cell["impact"], cell["urgency"]) == ("low", "low"):
            cell["priority"] = "high"
    response = await client.put("/v1/priority-matrix", json={"cells": matrix}, headers=ADMIN)
    assert response.status_code == 200, response.text
    ticket = await make_ticket(client, impact="low", urgency="low")
    assert ticket["priority"] == "high"
    changed = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"urgency": "high"}, headers=ADMIN
    )
    assert changed.json()["priority"] == "normal"


async def test_html_body_is_sanitised_and_gives_the_text_body(client):
    ticket = await make_ticket(
        client,
        comment={"html_body": '<p onclick="x()">Hi <b>there</b><script>alert(1)</script></p>'},
    )
    comments = (await client.get(f"/v1/tickets/{ticket['id']}/comments", headers=ADMIN)).json()
    first = comments["data"][0]
    assert "script" not in first["html_body"]
    assert "onclick" not in first["html_body"]
    assert "<b>there</b>" in first["html_body"]
    assert first["body"] == "Hi there"


async def test_created_ticket_has_location_and_etag(client):
    response = await client.post(
        "/v1/tickets", json={"subject": "s", "comment": {"body": "b"}}, headers=ADMIN
    )
    ticket = response.json()
    assert response.headers["location"] == f"/v1/tickets/{ticket['id']}"
    read = await client.get(response.headers["location"], headers=ADMIN)
    assert read.headers["etag"] == response.headers["etag"]
    assert read.json() == ticket

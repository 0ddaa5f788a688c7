"""The SSE stream, against a real server process (streams need a real socket)."""

import json
import threading
import time

import httpx
import pytest

from tests.database import ADMIN_TOKEN
from tests.live_server import running_server

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def server(pg_server, template_ready):
    url = await pg_server.create_database()
    with running_server(url) as base_url:
        yield base_url
    await pg_server.drop_database(url)


def read_events(base_url, headers, count, seconds=10.0):
    """Read `count` SSE events, then disconnect."""
    events: list[dict] = []
    current: dict = {}
    deadline = time.monotonic() + seconds
    with httpx.stream(
        "GET", f"{base_url}/v1/events/stream", headers=headers, timeout=seconds
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("id: "):
                current["id"] = line[4:]
            elif line.startswith("event: "):
                current["event"] = line[7:]
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])
            elif line == "" and current:
                events.append(current)
                current = {}
                if len(events) >= count:
                    return events
            if time.monotonic() > deadline:
                break
    raise AssertionError(f"got {len(events)} of {count} events")


def _ticket(base_url, headers, **body):
    payload = {"subject": "Stream me", "comment": {"body": "hello"}, **body}
    response = httpx.post(f"{base_url}/v1/tickets", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _token(base_url, role="customer"):
    user = httpx.post(
        f"{base_url}/v1/users",
        json={"name": role, "email": f"{role}-{time.monotonic_ns()}@example.com", "role": role},
        headers=ADMIN,
    ).json()
    token = httpx.post(f"{base_url}/v1/users/{user['id']}/tokens", json={}, headers=ADMIN)
    return user, {"Authorization": f"Bearer {token.json()['token']}"}


def test_stream_delivers_and_resumes_after_a_disconnect(server):
    _ticket(server, ADMIN)
    first = read_events(server, ADMIN, 2)
    assert [e["event"] for e in first] == ["comment.created", "ticket.created"]
    # While disconnected, more happens; reconnecting with Last-Event-ID misses nothing.
    _ticket(server, ADMIN)
    _ticket(server, ADMIN)
    resumed = read_events(server, {**ADMIN, "Last-Event-ID": first[-1]["id"]}, 4)
    assert [e["event"] for e in resumed] == ["comment.created", "ticket.created"] * 2
    assert len({e["data"]["id"] for e in first + resumed}) == 6


def test_stream_pushes_new_events_live(server):
    timer = threading.Timer(0.5, _ticket, args=(server, ADMIN))
    timer.start()
    try:
        live = read_events(server, ADMIN, 2, seconds=10)
    finally:
        timer.cancel()
    assert {e["event"] for e in live} == {"comment.created", "ticket.created"}


def _internal_article(base_url):
    """Knowledge base events are staff-only: an internal article's must not reach anyone else."""
    category = httpx.post(f"{base_url}/v1/kb/categories", json={"name": "Kb"}, headers=ADMIN)
    section = httpx.post(
        f"{base_url}/v1/kb/sections",
        json={"category_id": category.json()["id"], "name": "Internal"},
        headers=ADMIN,
    )
    article = httpx.post(
        f"{base_url}/v1/kb/articles",
        json={"section_id": section.json()["id"], "source_locale": "en", "visibility": "internal"},
        headers=ADMIN,
    )
    written = httpx.put(
        f"{base_url}/v1/kb/articles/{article.json()['id']}/translations/en",
        json={"title": "Escalation zanzibar", "body": "zanzibar", "status": "published"},
        headers=ADMIN,
    )
    assert written.status_code == 201, written.text


def test_customer_stream_has_only_their_public_events(server):
    _internal_article(server)
    _, customer_headers = _token(server)
    _, other_headers = _token(server)
    ticket = _ticket(server, customer_headers)
    _ticket(server, other_headers)
    note = httpx.post(
        f"{server}/v1/tickets/{ticket['id']}/comments",
        json={"body": "internal zanzibar", "public": False},
        headers=ADMIN,
    )
    assert note.status_code == 201
    reply = httpx.post(
        f"{server}/v1/tickets/{ticket['id']}/comments",
        json={"body": "public answer"},
        headers=ADMIN,
    )
    assert reply.status_code == 201
    events = read_events(server, customer_headers, 4)
    assert {e["data"]["ticket_id"] for e in events} == {ticket["id"]}
    text = json.dumps(events)
    assert "zanzibar" not in text
    assert "priority" not in text
    assert [e["event"] for e in events] == [
        "comment.created",
        "ticket.created",
        "comment.created",
        "ticket.status_changed",
    ]


def test_group_restricted_staff_stream_only_their_groups_tickets(server):
    agent, agent_headers = _token(server, role="agent")
    httpx.patch(
        f"{server}/v1/users/{agent['id']}", json={"ticket_access": "groups"}, headers=ADMIN
    ).raise_for_status()
    group = httpx.post(f"{server}/v1/groups", json={"name": "Stream EMEA"}, headers=ADMIN).json()
    httpx.put(f"{server}/v1/groups/{group['id']}/members/{agent['id']}", headers=ADMIN)
    outside = _ticket(server, ADMIN, subject="Other group")
    note = httpx.post(
        f"{server}/v1/tickets/{outside['id']}/comments",
        json={"body": "internal zanzibar", "public": False},
        headers=ADMIN,
    )
    assert note.status_code == 201
    inside = _ticket(server, ADMIN, group_id=group["id"])
    feed = httpx.get(f"{server}/v1/events", headers=agent_headers).json()["data"]
    events = read_events(server, agent_headers, len(feed))
    assert [e["id"] for e in events] == [e["cursor"] for e in feed]
    tickets = {e["data"]["ticket_id"] for e in events} - {None}
    assert tickets == {inside["id"]}
    assert "zanzibar" not in json.dumps(events)

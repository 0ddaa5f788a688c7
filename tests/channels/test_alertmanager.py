"""Alertmanager notifications: one ticket per group, private notes while it fires, solved
once every alert is resolved; bad payloads refused whole; a storm loses nothing."""

import asyncio
import random

import pytest

from tests.channels.alerts import alert, notification, post
from tests.channels.factories import count, make_channel
from tests.factories import ADMIN, assert_problem, make_user, make_user_with_token


async def _ticket(client, ticket_id):
    return (await client.get(f"/v1/tickets/{ticket_id}", headers=ADMIN)).json()


async def test_a_group_keeps_one_ticket_until_every_alert_is_resolved(client):
    channel = await make_channel(client, "alertmanager")
    opened = await post(client, channel, notification("DiskFull", [alert("a1")]))
    assert opened.status_code == 200, opened.text
    assert opened.json() == {"ticket_id": opened.json()["ticket_id"], "outcome": "new_ticket",
                             "firing": 1, "resolved": 0}  # fmt: skip
    ticket_id = opened.json()["ticket_id"]
    ticket = await _ticket(client, ticket_id)
    assert ticket["subject"] == "[FIRING:1] DiskFull"
    assert ticket["priority"] == "urgent"
    assert ticket["channel"] == "alert"
    assert set(ticket["tags"]) == {
        "alertmanager", "alertname:diskfull", "severity:critical", "team:storage_ops"
    }  # fmt: skip

    more = await post(client, channel, notification("DiskFull", [alert("a1"), alert("a2")]))
    assert more.json() == {"ticket_id": ticket_id, "outcome": "note", "firing": 2, "resolved": 0}
    half = await post(
        client, channel, notification("DiskFull", [alert("a1", "resolved"), alert("a2")])
    )
    assert half.json()["outcome"] == "note"
    done = await post(client, channel, notification("DiskFull", [alert("a2", "resolved")]))
    assert done.json() == {"ticket_id": ticket_id, "outcome": "solved", "firing": 0, "resolved": 2}
    assert (await _ticket(client, ticket_id))["status"]["category"] == "solved"
    late = await post(client, channel, notification("DiskFull", [alert("a2", "resolved")]))
    assert late.json()["outcome"] == "ignored"

    comments = (await client.get(f"/v1/tickets/{ticket_id}/comments", headers=ADMIN)).json()
    assert [c["public"] for c in comments["data"]] == [False] * 4
    assert all(c["via"] == "alert" for c in comments["data"])

    again = await post(client, channel, notification("DiskFull", [alert("a1")]))
    assert again.json()["outcome"] == "new_ticket"
    assert again.json()["ticket_id"] != ticket_id


async def test_resolution_may_be_left_to_people_and_a_worse_alert_raises_the_priority(client):
    channel = await make_channel(client, "alertmanager", alert_solve_when_resolved=False)
    common = {"commonLabels": {"alertname": "Cpu"}}
    warning = alert("c1", severity="warning")
    opened = await post(client, channel, notification("Cpu", [warning], **common))
    ticket_id = opened.json()["ticket_id"]
    assert (await _ticket(client, ticket_id))["priority"] == "normal"
    worse = await post(client, channel, notification("Cpu", [warning, alert("c2")], **common))
    assert worse.json()["outcome"] == "note"
    assert (await _ticket(client, ticket_id))["priority"] == "urgent"
    resolved = [alert("c1", "resolved"), alert("c2", "resolved")]
    done = await post(client, channel, notification("Cpu", resolved, **common))
    assert done.json()["outcome"] == "note"
    assert (await _ticket(client, ticket_id))["status"]["category"] == "new"


@pytest.mark.parametrize(
    ("body", "raw"),
    [
        (None, b'{"version": "4", "groupKey": '),
        (None, b"[]"),
        ({**notification("G", [alert("f")]), "version": "3"}, None),
        ({**notification("G", [alert("f")]), "alerts": []}, None),
        ({**notification("G", [{**alert("f"), "status": "burning"}])}, None),
        ({**notification("G", [{**alert("f"), "fingerprint": ""}])}, None),
        ({**notification("G", [alert("f")]), "commonLabels": {"a": 1}}, None),
        ({k: v for k, v in notification("G", [alert("f")]).items() if k != "groupKey"}, None),
    ],
)
async def test_malformed_notifications_are_refused_whole(client, database_url, body, raw):
    channel = await make_channel(client, "alertmanager")
    assert_problem(await post(client, channel, body, raw=raw), 422)
    assert await count(database_url, "SELECT count(*) FROM tickets") == 0
    assert await count(database_url, "SELECT count(*) FROM alert_groups") == 0


async def test_only_the_channels_secret_is_accepted(client, database_url):
    channel = await make_channel(client, "alertmanager")
    chat = await make_channel(client, "chat")
    body = notification("G", [alert("f")])
    assert_problem(await post(client, channel, body, secret="hdch_forged"), 401)
    assert_problem(await post(client, channel, body, secret=chat["secret"]), 401)
    response = await client.post(f"/v1/channels/alertmanager/{channel['id']}", json=body,
                                 headers=ADMIN)  # fmt: skip
    assert_problem(response, 401)
    assert await count(database_url, "SELECT count(*) FROM tickets") == 0


async def test_customers_never_see_alert_notes(client):
    """The alerts' requester is a placeholder customer; were it ever given a token, it would
    see its tickets but no note, and no event of them."""
    channel = await make_channel(client, "alertmanager")
    ticket_id = (await post(client, channel, notification("Mem", [alert("m1")]))).json()[
        "ticket_id"
    ]
    await post(client, channel, notification("Mem", [alert("m1"), alert("m2")]))
    requester_id = (await _ticket(client, ticket_id))["requester_id"]
    token = await client.post(f"/v1/users/{requester_id}/tokens", json={}, headers=ADMIN)
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    comments = await client.get(f"/v1/tickets/{ticket_id}/comments", headers=headers)
    assert comments.status_code == 200
    assert comments.json()["data"] == []
    for path in (f"/v1/tickets/{ticket_id}", "/v1/tickets", "/v1/tickets?q=m1"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert "Disk almost full" not in response.text
        assert "channel_alert" not in response.text
    _, stranger = await make_user_with_token(client)
    assert_problem(await client.get(f"/v1/tickets/{ticket_id}", headers=stranger), 404)
    assert await make_user(client)  # the placeholder did not take over new customers


async def test_a_storm_of_a_thousand_alerts_keeps_one_ticket_per_group_and_loses_none(client):
    """1,000 alerts in 40 groups, 5 to a notification, sent 20 at a time in random order."""
    channel = await make_channel(client, "alertmanager")
    groups = [f"Storm{g}" for g in range(40)]
    bodies = [
        notification(group, [alert(f"{group}-{i + j}", instance=f"i{i + j}") for j in range(5)])
        for group in groups
        for i in range(0, 25, 5)
    ]
    random.Random(7).shuffle(bodies)
    limit = asyncio.Semaphore(20)

    async def one(body):
        async with limit:
            response = await post(client, channel, body)
            assert response.status_code == 200, response.text
            return body["groupLabels"]["alertname"], response.json()

    results = await asyncio.gather(*(one(b) for b in bodies))
    by_group: dict[str, list[dict]] = {}
    for group, result in results:
        by_group.setdefault(group, []).append(result)
    assert sorted(by_group) == sorted(groups)
    for group, answers in by_group.items():
        assert len({a["ticket_id"] for a in answers}) == 1, group
        assert sorted(a["outcome"] for a in answers) == ["new_ticket"] + ["note"] * 4
        assert max(a["firing"] for a in answers) == 25, group

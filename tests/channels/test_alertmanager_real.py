"""The real Alertmanager posting to a real server process: its payloads, its bearer
credentials and its resolved notifications, end to end."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from tests.channels.alertmanager_process import running_alertmanager
from tests.factories import ADMIN
from tests.live_server import running_server


def _alerts(ends_at: datetime | None = None) -> list[dict]:
    starts = datetime.now(UTC) - timedelta(minutes=5)
    return [
        {
            "labels": {"alertname": "DiskFull", "severity": "critical", "instance": instance},
            "annotations": {"summary": f"Disk almost full on {instance}"},
            "startsAt": starts.isoformat(),
            **({"endsAt": ends_at.isoformat()} if ends_at else {}),
            "generatorURL": "http://prometheus.example/graph?g0.expr=disk",
        }
        for instance in ("db1", "db2")
    ]


async def _until(predicate, seconds=30.0):
    for _ in range(int(seconds / 0.2)):
        found = await predicate()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError("Alertmanager's notification did not arrive in time")


async def test_alertmanager_opens_notes_and_solves_one_ticket_per_group(database_url):
    with running_server(database_url) as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=ADMIN) as api:
            created = await api.post("/v1/channels", json={"kind": "alertmanager", "name": "AM"})
            assert created.status_code == 201, created.text
            channel = created.json()
            url = f"{base_url}/v1/channels/alertmanager/{channel['id']}"

            async def alert_ticket():
                tickets = (await api.get("/v1/tickets")).json()["data"]
                return [t for t in tickets if t["channel"] == "alert"]

            async def ticket_solved():
                [ticket] = await alert_ticket()
                return ticket if ticket["status"]["category"] == "solved" else None

            with running_alertmanager(url, channel["secret"]) as am:
                async with httpx.AsyncClient(base_url=am) as alertmanager:
                    posted = await alertmanager.post("/api/v2/alerts", json=_alerts())
                    assert posted.status_code == 200, posted.text
                    [ticket] = await _until(alert_ticket)
                    assert ticket["subject"].startswith("[FIRING:2] DiskFull")
                    assert ticket["priority"] == "urgent"
                    assert "alertname:diskfull" in ticket["tags"]
                    ended = datetime.now(UTC) - timedelta(seconds=1)
                    posted = await alertmanager.post("/api/v2/alerts", json=_alerts(ended))
                    assert posted.status_code == 200, posted.text
                    solved = await _until(ticket_solved)
            assert solved["id"] == ticket["id"]
            comments = (await api.get(f"/v1/tickets/{ticket['id']}/comments")).json()["data"]
            assert all(not c["public"] for c in comments)
            assert "RESOLVED" in comments[-1]["body"]
            assert "db1" in comments[0]["body"]
            assert "db2" in comments[0]["body"]

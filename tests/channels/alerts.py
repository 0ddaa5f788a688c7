"""Alertmanager webhook payloads (version 4), as its documentation and its source show them."""

from typing import Any

from tests.factories import bearer


def alert(fingerprint: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "severity": "critical", **labels},
        "annotations": {"summary": f"Disk almost full on {fingerprint}"},
        "startsAt": "2026-11-29T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-29T10:30:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=disk",
        "fingerprint": fingerprint,
    }


def notification(group: str, alerts: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{group}"}}',
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "helpdesk",
        "groupLabels": {"alertname": group},
        "commonLabels": {"alertname": group, "severity": "critical", "team": "Storage Ops"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
        **extra,
    }


async def post(client, channel, body, *, secret=None, raw=None):
    return await client.post(
        f"/v1/channels/alertmanager/{channel['id']}",
        json=None if raw is not None else body,
        content=raw,
        headers={**bearer(secret or channel["secret"]), "content-type": "application/json"},
    )

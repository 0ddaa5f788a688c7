"""Prometheus Alertmanager's webhook (payload version 4): one ticket per alert group.

A group's first firing notification opens a ticket; later notifications of the group add a
private note to it while it is open; once every alert of the group (by fingerprint) is
resolved, the ticket is solved (when the channel says so). A group whose ticket was solved
or closed opens a new one when it fires again. Labels shared by the group's alerts become
tags, ``severity`` the priority. Everything the service writes here is a private note: the
alert's requester is a placeholder customer of the channel, who must learn nothing from it.

Notifications of one group take turns on the group's row, so a storm of them keeps one ticket
per group and every alert's last status.
"""

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.channels.customers import customer_for
from helpdesk_api.channels.schemas import AlertResult
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.tags import MAX_TAG_LENGTH, normalize_tag
from helpdesk_api.models import (
    AlertGroup,
    Channel,
    IdentityKind,
    MessagingChannel,
    Priority,
    StatusCategory,
    Ticket,
    Via,
)
from helpdesk_api.statuses.service import default_status
from helpdesk_api.tickets import (
    ChangeSet,
    NewComment,
    TicketDraft,
    add_comment,
    commit_change,
    open_ticket,
    set_priority,
    set_status,
)

SUBJECT_MAX = 500
MAX_LABEL_TAGS = 20
ALERTS_MAX = 5000
SEVERITY_PRIORITY = {
    "critical": Priority.urgent, "page": Priority.urgent, "emergency": Priority.urgent,
    "fatal": Priority.urgent, "error": Priority.high, "high": Priority.high,
    "major": Priority.high, "warning": Priority.normal, "warn": Priority.normal,
    "minor": Priority.normal, "info": Priority.low, "low": Priority.low, "none": Priority.low,
}  # fmt: skip
_RANK = {Priority.low: 1, Priority.normal: 2, Priority.high: 3, Priority.urgent: 4}
Labels = dict[StrictStr, StrictStr]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Alert(_Loose):
    status: Literal["firing", "resolved"]
    labels: Labels = {}
    annotations: Labels = {}
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str | None = None
    fingerprint: Annotated[str, Field(min_length=1, max_length=64)]


class AlertmanagerPayload(_Loose):
    """https://prometheus.io/docs/alerting/latest/configuration/#webhook_config"""

    version: Literal["4"]
    groupKey: Annotated[str, Field(min_length=1, max_length=10_000)]
    truncatedAlerts: int = 0
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: Labels = {}
    commonLabels: Labels = {}
    commonAnnotations: Labels = {}
    externalURL: str = ""
    alerts: Annotated[list[Alert], Field(min_length=1, max_length=ALERTS_MAX)]


def priority_of(payload: AlertmanagerPayload) -> Priority:
    severities = [a.labels.get("severity", "") for a in payload.alerts if a.status == "firing"]
    severities.append(payload.commonLabels.get("severity", ""))
    found = [SEVERITY_PRIORITY[s.lower()] for s in severities if s.lower() in SEVERITY_PRIORITY]
    return max(found, key=_RANK.__getitem__) if found else Priority.normal


def tags_of(payload: AlertmanagerPayload) -> list[str]:
    tags = ["alertmanager"]
    for key, value in sorted({**payload.commonLabels, **payload.groupLabels}.items()):
        try:
            tags.append(normalize_tag(f"{key}:{value}"[:MAX_TAG_LENGTH], loc=("body",)))
        except InvalidInput:
            continue  # a label that makes no tag is still in the note
        if len(tags) > MAX_LABEL_TAGS:
            break
    return list(dict.fromkeys(tags))


def subject_of(payload: AlertmanagerPayload, firing: int) -> str:
    labels = payload.groupLabels or payload.commonLabels
    name = labels.get("alertname") or payload.commonLabels.get("alertname") or "Alert"
    rest = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertname")
    subject = f"[FIRING:{firing}] {name}" + (f" ({rest})" if rest else "")
    return " ".join(subject.split())[:SUBJECT_MAX]


def note_of(payload: AlertmanagerPayload) -> str:
    lines = [f"Alertmanager: {payload.status} ({len(payload.alerts)} alerts)"]
    for alert in payload.alerts:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
        lines.append(f"- {alert.status.upper()} [{alert.fingerprint}] {labels}")
        for key in ("summary", "description"):
            if alert.annotations.get(key):
                lines.append(f"  {key}: {alert.annotations[key]}")
        if alert.generatorURL:
            lines.append(f"  source: {alert.generatorURL}")
    if payload.truncatedAlerts:
        lines.append(f"({payload.truncatedAlerts} more alerts were left out by Alertmanager)")
    if payload.externalURL:
        lines.append(f"Alertmanager: {payload.externalURL}")
    return "\n".join(lines)


async def _locked_group(
    session: AsyncSession, channel: MessagingChannel, group_key: str, now: datetime
) -> AlertGroup:
    digest = hashlib.sha256(group_key.encode()).hexdigest()
    await session.execute(
        insert(AlertGroup)
        .values(channel_id=channel.id, group_key_hash=digest, group_key=group_key, updated_at=now)
        .on_conflict_do_nothing(index_elements=["channel_id", "group_key_hash"])
    )
    group = await session.scalar(
        select(AlertGroup)
        .where(AlertGroup.channel_id == channel.id, AlertGroup.group_key_hash == digest)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert group is not None
    return group


async def _open_ticket_of(session: AsyncSession, group: AlertGroup) -> Ticket | None:
    if group.ticket_id is None:
        return None
    ticket = await session.scalar(
        select(Ticket).where(Ticket.id == group.ticket_id).with_for_update()
    )
    if ticket is None or ticket.merged_into_id is not None:
        return None
    if ticket.status_category in (StatusCategory.solved, StatusCategory.closed):
        return None
    return ticket


def _counts(alerts: dict[str, Any]) -> tuple[int, int]:
    firing = sum(1 for status in alerts.values() if status == "firing")
    return firing, len(alerts) - firing


async def receive_alerts(
    session: AsyncSession, channel: MessagingChannel, payload: AlertmanagerPayload, now: datetime
) -> AlertResult:
    group = await _locked_group(session, channel, payload.groupKey, now)
    ticket = await _open_ticket_of(session, group)
    alerts = dict(group.alerts) if ticket is not None else {}
    for alert in payload.alerts:
        alerts[alert.fingerprint] = alert.status
    firing, resolved = _counts(alerts)
    actor = Actor.system(Via.alert)
    note = NewComment(body=note_of(payload), public=False, via=Via.alert)
    outcome: Literal["new_ticket", "note", "solved", "ignored"]
    if ticket is None:
        if firing == 0:
            # Resolutions of a group whose ticket is gone (solved, closed): nothing to tell.
            group.alerts, group.updated_at = alerts, now
            await session.flush()
            return AlertResult(ticket_id=None, outcome="ignored", firing=0, resolved=resolved)
        requester = await customer_for(
            session,
            IdentityKind.external,
            f"alertmanager-channel-{channel.id}",
            f"Alertmanager: {channel.name}",
            via=Via.alert.value,
        )
        draft = TicketDraft(
            subject=subject_of(payload, firing),
            requester=requester,
            submitter_id=requester.id,
            status=await default_status(session, StatusCategory.new),
            first_comment=note,
            channel=Channel.alert,
            group_id=channel.group_id,
            priority=priority_of(payload),
            tags=tags_of(payload),
        )
        ticket = (await open_ticket(session, draft, actor=actor, author=actor, now=now)).ticket
        group.ticket_id, outcome = ticket.id, "new_ticket"
    else:
        changes = ChangeSet()
        await add_comment(session, ticket, note, actor=actor, changes=changes, now=now)
        outcome = "note"
        # A group that grew worse (a critical alert joined warnings) raises its ticket.
        priority = priority_of(payload)
        if _RANK[priority] > _RANK[Priority(ticket.priority)]:
            set_priority(ticket, priority, changes)
        if firing == 0 and channel.alert_solve_when_resolved:
            solved = await default_status(session, StatusCategory.solved)
            set_status(ticket, solved, changes, now)
            outcome = "solved"
        await commit_change(session, ticket, changes, actor=actor, now=now)
    group.alerts, group.updated_at = alerts, now
    await session.flush()
    result = AlertResult(ticket_id=ticket.id, outcome=outcome, firing=firing, resolved=resolved)
    await record_event(
        session,
        EventType.channel_alert_received,
        actor_id=None,
        via=Via.alert.value,
        ticket_id=ticket.id,
        data={
            "channel_id": channel.id,
            "group_key": payload.groupKey,
            "status": payload.status,
            "result": result.model_dump(mode="json"),
        },
    )
    return result

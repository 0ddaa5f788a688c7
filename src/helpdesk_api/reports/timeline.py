"""A ticket's metrics as a fold over what happened to it, in order.

The pipeline's reaction feeds one round's steps to the stored figures; a ticket imported with
its history is folded once from its first step. Both go through ``apply``, so a metric means
the same whichever way it was computed.

Definitions (Zendesk's, where it has one):

* first reply: creation to the first public comment by an agent after creation;
* full resolution: creation to the latest solve (cleared when the ticket is reopened);
* requester wait: time in ``new``, ``open`` and ``on_hold``; agent wait: time in ``pending``;
  on-hold: time in ``on_hold`` — each a sum of finished stretches;
* replies: public agent comments after creation; ``replies_at_solve`` their number when the
  ticket was last solved (1: one-touch, first-contact resolution);
* reopens: moves out of ``solved`` back to work; assignee and group changes: changes after
  creation (the first assignment counts).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk_api.sla.business_time import BusinessCalendar, business_minutes_between

WORKING = frozenset({"new", "open", "on_hold"})  # the requester waits
DONE = frozenset({"solved", "closed"})


@dataclass
class Figures:
    status_category: str
    category_since: datetime
    calendar_id: int | None = None
    replies: int = 0
    replies_at_solve: int | None = None
    reopens: int = 0
    assignee_changes: int = 0
    group_changes: int = 0
    first_assigned_at: datetime | None = None
    first_reply_at: datetime | None = None
    solved_at: datetime | None = None
    closed_at: datetime | None = None
    left_backlog_at: datetime | None = None
    first_reply_minutes: float | None = None
    first_reply_business_minutes: float | None = None
    full_resolution_minutes: float | None = None
    full_resolution_business_minutes: float | None = None
    agent_wait_minutes: float = 0.0
    agent_wait_business_minutes: float | None = None
    requester_wait_minutes: float = 0.0
    requester_wait_business_minutes: float | None = None
    on_hold_minutes: float = 0.0
    on_hold_business_minutes: float | None = None


@dataclass(frozen=True)
class Reply:
    """A public comment: by an agent (a reply) or by the requester's side."""

    at: datetime
    by_agent: bool


@dataclass(frozen=True)
class StatusMove:
    at: datetime
    to: str  # the new status category


@dataclass(frozen=True)
class Assigned:
    at: datetime
    assignee_id: int | None


@dataclass(frozen=True)
class GroupMove:
    at: datetime
    group_id: int | None


Step = Reply | StatusMove | Assigned | GroupMove


@dataclass(frozen=True)
class Clock:
    """The ticket's creation time and its SLA calendar (None: no policy applies)."""

    created_at: datetime
    calendar: BusinessCalendar | None
    calendar_id: int | None


def start(created_at: datetime, category: str, assignee_id: int | None) -> Figures:
    figures = Figures(status_category=category, category_since=created_at)
    if assignee_id is not None:
        figures.first_assigned_at = created_at
    if category in DONE:  # created solved (an import, a ticket logged after the fact)
        _arrive(figures, category, created_at, Clock(created_at, None, None))
    return figures


def _minutes(start_at: datetime, end_at: datetime) -> float:
    return max((end_at - start_at) / timedelta(minutes=1), 0.0)


def _business(clock: Clock, start_at: datetime, end_at: datetime) -> float | None:
    if clock.calendar is None:
        return None
    return business_minutes_between(clock.calendar, start_at, end_at)


def _plus(total: float | None, more: float | None) -> float | None:
    if more is None:
        return total
    return (total or 0.0) + more


def _leave(figures: Figures, at: datetime, clock: Clock) -> None:
    """Count the stretch the ticket spent in its current category."""
    category, since = figures.status_category, figures.category_since
    if category not in WORKING and category != "pending":
        return
    calendar = _minutes(since, at)
    business = _business(clock, since, at)
    if category == "pending":
        figures.agent_wait_minutes += calendar
        figures.agent_wait_business_minutes = _plus(figures.agent_wait_business_minutes, business)
        return
    figures.requester_wait_minutes += calendar
    figures.requester_wait_business_minutes = _plus(
        figures.requester_wait_business_minutes, business
    )
    if category == "on_hold":
        figures.on_hold_minutes += calendar
        figures.on_hold_business_minutes = _plus(figures.on_hold_business_minutes, business)


def _arrive(figures: Figures, category: str, at: datetime, clock: Clock) -> None:
    previous = figures.status_category
    figures.status_category, figures.category_since = category, at
    if category == "solved":
        figures.solved_at = at
        figures.replies_at_solve = figures.replies
        figures.full_resolution_minutes = _minutes(clock.created_at, at)
        figures.full_resolution_business_minutes = _business(clock, clock.created_at, at)
    if category == "closed":
        figures.closed_at = at
    if category in DONE and figures.left_backlog_at is None:
        figures.left_backlog_at = at
    if previous in DONE and category not in DONE:
        figures.reopens += 1
        figures.solved_at = figures.replies_at_solve = None
        figures.full_resolution_minutes = figures.full_resolution_business_minutes = None
        figures.left_backlog_at = None


def apply(figures: Figures, step: Step, clock: Clock) -> None:
    if clock.calendar_id is not None:
        figures.calendar_id = clock.calendar_id
    if isinstance(step, Reply):
        if not step.by_agent:
            return
        figures.replies += 1
        if figures.first_reply_at is None:
            figures.first_reply_at = step.at
            figures.first_reply_minutes = _minutes(clock.created_at, step.at)
            figures.first_reply_business_minutes = _business(clock, clock.created_at, step.at)
    elif isinstance(step, StatusMove):
        if step.to == figures.status_category:
            return
        _leave(figures, step.at, clock)
        _arrive(figures, step.to, step.at, clock)
    elif isinstance(step, Assigned):
        figures.assignee_changes += 1
        if step.assignee_id is not None and figures.first_assigned_at is None:
            figures.first_assigned_at = step.at
    else:
        figures.group_changes += 1


def fold(figures: Figures, steps: list[Step], clock: Clock) -> Figures:
    for step in steps:
        apply(figures, step, clock)
    return figures

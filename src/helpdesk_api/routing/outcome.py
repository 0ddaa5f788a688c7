"""What routing decided for one ticket, and why."""

from dataclasses import dataclass
from enum import StrEnum


class FailureReason(StrEnum):
    """Why routing found nobody; the ``reason`` of ``assignment.failed``. Checked in this
    order, so the reason names the first filter that left nobody."""

    no_group = "no_group"  # the ticket has no group, or the group is gone or inactive
    no_members = "no_members"  # no active agent or admin belongs to the group
    no_skill_match = "no_skill_match"  # no member has every required skill
    none_online = "none_online"  # the skilled members are all away or offline
    all_at_capacity = "all_at_capacity"  # the available ones are all at max_open_per_agent


class SkipReason(StrEnum):
    """Why routing did not try (no event: nothing went wrong)."""

    already_assigned = "already_assigned"  # only an unassigned ticket is routed
    manual = "manual"  # the group's routing mode is manual
    not_open = "not_open"  # a solved or closed ticket waits for nobody


class Basis(StrEnum):
    """Why the chosen agent, among the eligible ones."""

    account_manager = "account_manager"  # the organisation's account manager
    language = "language"  # a member who speaks the requester's language, by the mode
    mode = "mode"  # the group's mode alone (round robin or least busy)


@dataclass(frozen=True, slots=True)
class RoutingOutcome:
    """Exactly one of ``assignee_id`` (assigned), ``failure`` (``assignment.failed`` was
    recorded) or ``skipped`` is set."""

    group_id: int | None
    assignee_id: int | None = None
    basis: Basis | None = None
    failure: FailureReason | None = None
    skipped: SkipReason | None = None
    detail: str = ""

    @property
    def assigned(self) -> bool:
        return self.assignee_id is not None

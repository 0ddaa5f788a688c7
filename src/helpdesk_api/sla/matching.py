"""Which policy applies to a ticket, and why: a pure function of the policies and the ticket."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

CONDITION_FIELDS = ("priority", "group_id", "organization_id", "tags", "channel", "type")


@dataclass(frozen=True)
class TicketFacts:
    priority: str
    group_id: int | None
    organization_id: int | None
    # The ticket's own tags and its requester's and organisation's (segments such as "vip").
    tags: frozenset[str]
    channel: str
    type: str | None


class HasConditions(Protocol):
    @property
    def conditions(self) -> dict[str, Any]: ...


P = TypeVar("P", bound=HasConditions)


def match(conditions: dict[str, Any], facts: TicketFacts) -> list[dict[str, Any]] | None:
    """The matched conditions (what was asked, what satisfied it), or None if one fails.

    Each non-empty condition must match; within one, any listed value will do.
    """
    matched: list[dict[str, Any]] = []
    for field in CONDITION_FIELDS:
        wanted = list(conditions.get(field) or [])
        if not wanted:
            continue
        if field == "tags":
            hits: list[Any] = sorted(set(wanted) & facts.tags)
        else:
            value = getattr(facts, field)
            hits = [value] if value is not None and value in wanted else []
        if not hits:
            return None
        matched.append({"field": field, "values": wanted, "matched": hits})
    return matched


def choose(policies: Sequence[P], facts: TicketFacts) -> tuple[P, list[dict[str, Any]]] | None:
    """The first policy (in the order given) whose conditions match."""
    for policy in policies:
        matched = match(policy.conditions, facts)
        if matched is not None:
            return policy, matched
    return None

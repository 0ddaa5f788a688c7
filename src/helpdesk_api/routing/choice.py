"""Choosing among eligible agents: pure, so every rule has a plain unit test."""

from collections.abc import Sequence

from helpdesk_api.models import RoutingMode
from helpdesk_api.routing.candidates import Candidate
from helpdesk_api.routing.outcome import Basis


def _waited(candidate: Candidate) -> tuple[int, int]:
    # Never routed to (no turn) sorts first: a new member gets the next ticket.
    turn = candidate.last_routed_turn
    return (-1 if turn is None else turn, candidate.user_id)


def by_mode(candidates: Sequence[Candidate], mode: RoutingMode) -> Candidate:
    """Round robin: the one routed to least recently. Least busy: the fewest open tickets,
    then the one routed to least recently (so equals take turns), then the lowest id."""
    if mode is RoutingMode.least_busy:
        return min(candidates, key=lambda c: (c.open_tickets, *_waited(c)))
    return min(candidates, key=_waited)


def choose(
    eligible: Sequence[Candidate],
    mode: RoutingMode,
    *,
    account_manager_id: int | None = None,
    language_skill: str | None = None,
) -> tuple[Candidate, Basis]:
    """The organisation's account manager when eligible; else, with a language to match, the
    mode's pick among eligible members who speak it, if any does; else the mode's pick among
    all eligible members. ``eligible`` must not be empty."""
    for candidate in eligible:
        if candidate.user_id == account_manager_id:
            return candidate, Basis.account_manager
    if language_skill is not None:
        speakers = [c for c in eligible if language_skill in c.skills]
        if speakers:
            return by_mode(speakers, mode), Basis.language
    return by_mode(eligible, mode), Basis.mode

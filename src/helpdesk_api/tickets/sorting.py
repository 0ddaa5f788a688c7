"""Ticket list sorts: one to three keys (``sort=status,-priority``), always ending in the
ticket id so the keyset cursor has a unique last key.

Ties: after a timestamp key the id follows its direction (newest first stays newest first);
after a kind-of-thing key (priority, status, requester, assignee) the id is ascending, so
within a priority or a status the OLDER tickets come first. An integer key whose direction
differs from the id's is sorted by its negation instead, so every key runs in one direction
and the cursor is one row comparison an index answers (``(-priority_rank, id)``, migration
0023). A timestamp key against the id's direction (``-due_at,status``) stays correct, through
the cursor's OR form, but no index holds that order.

Index-backed on an unfiltered list (1M tickets): ``created_at``, ``updated_at``,
``sla_breach_at``, ``due_at``, ``priority`` and ``status``, each either way. Not index-backed
there (sorted after the filters: fine for a view's or a filtered list's few thousand rows,
slow over every ticket): ``requester``, ``assignee`` and any sort of two or more keys, such
as ``status,-priority`` (an incremental sort within each status: ~50 ms at 200k tickets).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Integer, func

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden, InvalidInput
from helpdesk_api.core.pagination import SortKey
from helpdesk_api.models import Ticket

MAX_SORT_KEYS = 3
_LOC = ("query", "sort")


class TicketSort(StrEnum):
    """One key; lists take up to three, comma-separated."""

    created_at = "created_at"
    created_at_desc = "-created_at"
    updated_at = "updated_at"
    updated_at_desc = "-updated_at"
    priority = "priority"
    priority_desc = "-priority"
    sla_breach_at = "sla_breach_at"
    sla_breach_at_desc = "-sla_breach_at"
    status = "status"
    status_desc = "-status"
    due_at = "due_at"
    due_at_desc = "-due_at"
    requester = "requester"
    requester_desc = "-requester"
    assignee = "assignee"
    assignee_desc = "-assignee"


# The category's place in the lifecycle, new … closed (migration 0023's SQL function, which
# its indexes are on).
STATUS_RANK: ColumnElement[int] = func.ticket_status_rank(Ticket.status_category, type_=Integer)


@dataclass(frozen=True)
class _Spec:
    column: Any
    value: Callable[[Any], Any]
    integer: bool
    staff_only: bool
    label: str | None = None  # selected under this name when not a plain column
    not_null: Any = None  # tickets without a value are left out of the list


_SPECS: dict[str, _Spec] = {
    "created_at": _Spec(Ticket.created_at, lambda t: t.created_at, False, False),
    "updated_at": _Spec(Ticket.updated_at, lambda t: t.updated_at, False, False),
    "priority": _Spec(Ticket.priority_rank, lambda t: t.priority_rank, True, True),
    "sla_breach_at": _Spec(
        Ticket.sla_next_breach_at,
        lambda t: t.sla_next_breach_at,
        False,
        True,
        not_null=Ticket.sla_next_breach_at,
    ),
    "status": _Spec(
        STATUS_RANK,
        lambda t: t.sort_status_rank,
        True,
        False,
        label="sort_status_rank",
    ),
    "due_at": _Spec(Ticket.due_at, lambda t: t.due_at, False, True, not_null=Ticket.due_at),
    "requester": _Spec(Ticket.requester_id, lambda t: t.requester_id, True, False),
    # Unassigned as 0: first ascending, last descending.
    "assignee": _Spec(
        func.coalesce(Ticket.assignee_id, 0),
        lambda t: t.assignee_id or 0,
        True,
        True,
    ),
}


@dataclass(frozen=True)
class TicketOrder:
    keys: list[SortKey]
    extra_columns: list[Any]  # to select, so the cursor can read them off a row
    conditions: list[Any]
    ordering: str  # the cursor's tag


def parse_sort(raw: str) -> list[tuple[str, bool]]:
    """``"status,-priority"`` → ``[("status", False), ("priority", True)]``, or a 422."""
    parsed: list[tuple[str, bool]] = []
    for part in raw.split(","):
        token = part.strip()
        name = token.removeprefix("-")
        if name not in _SPECS:
            known = ", ".join(_SPECS)
            raise InvalidInput(
                f"Unknown sort key {token!r}: one of {known}, each with an optional "
                "leading - for descending, comma-separated.",
                loc=_LOC,
            )
        if any(name == seen for seen, _ in parsed):
            raise InvalidInput(f"sort names {name!r} twice.", loc=_LOC)
        parsed.append((name, token.startswith("-")))
    if len(parsed) > MAX_SORT_KEYS:
        raise InvalidInput(f"sort takes at most {MAX_SORT_KEYS} keys.", loc=_LOC)
    return parsed


def check_sort(principal: Principal, parsed: Sequence[tuple[str, bool]]) -> None:
    # Sorting by a hidden field would let a customer infer it.
    hidden = [name for name, _ in parsed if _SPECS[name].staff_only]
    if not principal.is_staff and hidden:
        raise Forbidden(f"Only staff may sort by {', '.join(hidden)}.")


def ticket_order(principal: Principal, raw: str) -> TicketOrder:
    parsed = parse_sort(raw)
    check_sort(principal, parsed)
    last, last_descending = parsed[-1]
    id_descending = last_descending and not _SPECS[last].integer
    keys: list[SortKey] = []
    extra: list[Any] = []
    conditions: list[Any] = []
    negated = False
    for name, descending in parsed:
        spec = _SPECS[name]
        column, value = spec.column, spec.value
        if spec.label is not None:
            extra.append(column.label(spec.label))
        if spec.not_null is not None:
            conditions.append(spec.not_null.is_not(None))
        if spec.integer and descending != id_descending:
            column, value, descending = -column, _negated(value), id_descending
            negated = True
        keys.append(SortKey(column, value, descending=descending))
    keys.append(SortKey(Ticket.id, lambda t: t.id, descending=id_descending))
    normal = ",".join(("-" if d else "") + n for n, d in parsed)
    # A negated key's cursor holds the negation: not one an older order may reuse.
    ordering = f"tickets:{normal}" + ("~" if negated else "")
    return TicketOrder(keys, extra, conditions, ordering)


def _negated(value: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda row: -value(row)

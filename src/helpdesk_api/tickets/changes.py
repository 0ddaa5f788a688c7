"""What one request changed on one ticket."""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from helpdesk_api.models import Ticket


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    return value


@dataclass
class ChangeSet:
    """What one request changed on one ticket, in the order it happened."""

    changes: list[dict[str, Any]] = field(default_factory=list)
    comment_id: int | None = None
    comment_public: bool = False
    propagate: bool = False  # a problem's public reply goes to its incidents too
    # The writer answers every linked ticket itself (a reply to all, a merge): a problem's
    # change must not be copied to its incidents a second time.
    reaches_linked: bool = False
    # Notices a rule asked for (``notifications.NoticeRequest``), sent by this round's
    # notification stage: after the SLA stage, so they can tell the round's due times.
    notices: list[Any] = field(default_factory=list)
    # Reactions that owe this ticket work they could not write in the round before (its
    # follow-up was another actor's): they do it when this follow-up comes back round.
    deferred: set[str] = field(default_factory=set)

    def set(self, ticket: Ticket, name: str, value: Any, *, field_name: str | None = None) -> bool:
        """Assign ``ticket.name = value`` and remember it, if it differs."""
        old = getattr(ticket, name)
        if old == value:
            return False
        setattr(ticket, name, value)
        self.changes.append({"field": field_name or name, "from": _plain(old), "to": _plain(value)})
        return True

    def note(self, field_name: str, old: Any, new: Any) -> None:
        self.changes.append({"field": field_name, "from": _plain(old), "to": _plain(new)})

    def changed(self, field_name: str) -> bool:
        return any(c["field"] == field_name for c in self.changes)

    def __bool__(self) -> bool:
        return bool(self.changes) or self.comment_id is not None

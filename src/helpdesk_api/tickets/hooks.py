"""Reactions to ticket changes that must happen in the same transaction (SLA clocks, …).

Tickets know nothing of the domains that react to them: those register a hook here when the
application is assembled (see ``api.register_ticket_hooks``), and ``write_audit`` runs every
hook after each audited change.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.models import Role, Ticket
from helpdesk_api.tickets.changes import ChangeSet


@dataclass(frozen=True)
class TicketChange:
    ticket: Ticket
    changes: ChangeSet
    actor_id: int | None
    actor_role: Role | None  # None for the system (rules, SLA, merges by the worker)
    via: str
    now: datetime
    created: bool


TicketHook = Callable[[AsyncSession, TicketChange], Awaitable[None]]
_hooks: list[TicketHook] = []


def register(hook: TicketHook) -> None:
    if hook not in _hooks:
        _hooks.append(hook)


async def run_hooks(session: AsyncSession, change: TicketChange) -> None:
    for hook in _hooks:
        await hook(session, change)

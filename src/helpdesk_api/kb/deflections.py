"""The requester's answer to the bot, and deflections for reports. Never commits.

An answer comes by the reply's link (``POST /v1/public/deflections/{token}``) or, in a
messaging channel, as a message that is only a "solved" keyword. It is taken once: a second
answer is a 409 and changes nothing. "Solved" solves the ticket through the ticket pipeline,
as a change by the requester ``via: bot``; a ticket already solved or closed stays as it is.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.visibility import ticket_visibility
from helpdesk_api.core.actor import Actor
from helpdesk_api.core.auth import Principal, hash_token
from helpdesk_api.core.errors import Conflict, Forbidden, NotFound
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.kb.bot import TOKEN_PREFIX
from helpdesk_api.kb.deflection_schemas import (
    DeflectionAnswered,
    DeflectionCounts,
    deflection_read,
)
from helpdesk_api.models import (
    DeflectionState,
    KbDeflection,
    Role,
    StatusCategory,
    Ticket,
    TicketAccess,
    Via,
)
from helpdesk_api.statuses.service import default_status
from helpdesk_api.tickets import ChangeSet, commit_change, set_status

# A channel message that is only one of these (any case, end punctuation ignored) accepts.
SOLVED_KEYWORDS = frozenset(
    {"solved", "resolved", "risolto", "решено", "megoldva", "rezolvat", "solved it"}
)
_SETTLED = (StatusCategory.solved, StatusCategory.closed)


def _unknown() -> NotFound:
    return NotFound("This deflection link is not valid.")


def is_solved_keyword(text: str) -> bool:
    return text.strip().rstrip(".!").strip().casefold() in SOLVED_KEYWORDS


async def answer_by_link(
    session: AsyncSession,
    token: str,
    *,
    solved: bool,
    principal: Principal | None,
    now: datetime,
) -> DeflectionAnswered:
    """404 for an unknown token, or one of another requester's when a customer's token is
    sent; 403 for staff tokens; 409 once answered."""
    if principal is not None and principal.is_staff:
        raise Forbidden("Staff solve tickets with PATCH /v1/tickets/{id}; this is the requester's.")
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise _unknown()
    deflection_id = await session.scalar(
        select(KbDeflection.id).where(KbDeflection.token_hash == hash_token(token))
    )
    if deflection_id is None:
        raise _unknown()
    ticket, deflection = await _lock(session, deflection_id)
    if principal is not None and principal.user_id != deflection.requester_id:
        raise _unknown()
    return await _answer(session, ticket, deflection, solved=solved, by="link", now=now)


async def answer_by_keyword(
    session: AsyncSession, ticket: Ticket, text: str, *, now: datetime
) -> DeflectionAnswered | None:
    """A channel message on the locked ``ticket``: accepts its open deflection when the
    message is a "solved" keyword; None (nothing done) otherwise."""
    if not is_solved_keyword(text):
        return None
    deflection = await session.scalar(
        select(KbDeflection)
        .where(KbDeflection.ticket_id == ticket.id, KbDeflection.state == DeflectionState.offered)
        .order_by(KbDeflection.id.desc())
        .limit(1)
        .with_for_update()
    )
    if deflection is None:
        return None
    return await _answer(session, ticket, deflection, solved=True, by="keyword", now=now)


async def _lock(session: AsyncSession, deflection_id: int) -> tuple[Ticket, KbDeflection]:
    # The ticket first, then the deflection: the order every ticket writer locks in.
    ticket = await session.scalar(
        select(Ticket)
        .join(KbDeflection, KbDeflection.ticket_id == Ticket.id)
        .where(KbDeflection.id == deflection_id)
        .with_for_update(of=Ticket)
    )
    deflection = await session.scalar(
        select(KbDeflection)
        .where(KbDeflection.id == deflection_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if ticket is None or deflection is None:
        raise _unknown()
    return ticket, deflection


async def _answer(
    session: AsyncSession,
    ticket: Ticket,
    deflection: KbDeflection,
    *,
    solved: bool,
    by: str,
    now: datetime,
) -> DeflectionAnswered:
    if deflection.state != DeflectionState.offered:
        raise Conflict(f"This deflection was already answered ({deflection.state}).")
    deflection.state = DeflectionState.accepted if solved else DeflectionState.rejected
    deflection.answered_by, deflection.answered_at = by, now
    actor = Actor(user_id=ticket.requester_id, role=Role.customer, via=Via.bot)
    solves = solved and ticket.status_category not in _SETTLED and ticket.merged_into_id is None
    if solves:
        changes = ChangeSet()
        set_status(ticket, await default_status(session, StatusCategory.solved), changes, now)
        ticket.updated_at = now
        await session.flush()
        await commit_change(session, ticket, changes, actor=actor, now=now)
    await session.flush()
    await record_event(
        session,
        EventType.deflection_accepted if solved else EventType.deflection_rejected,
        actor_id=ticket.requester_id,
        via=Via.bot.value,
        ticket_id=ticket.id,
        data={"deflection": deflection_read(deflection).model_dump(mode="json")},
    )
    return DeflectionAnswered(
        state="accepted" if solved else "rejected", ticket_id=ticket.id, ticket_solved=solves
    )


def _in_range(
    statement: Any, principal: Principal, start: datetime | None, end: datetime | None
) -> Any:
    if principal.ticket_access != TicketAccess.all:
        # Staff who see only some tickets count and list only those tickets' deflections.
        statement = statement.where(
            select(Ticket.id)
            .where(Ticket.id == KbDeflection.ticket_id, ticket_visibility(principal))
            .exists()
        )
    if start is not None:
        statement = statement.where(KbDeflection.offered_at >= start)
    if end is not None:
        statement = statement.where(KbDeflection.offered_at < end)
    return statement


async def list_deflections(
    session: AsyncSession,
    principal: Principal,
    *,
    start: datetime | None,
    end: datetime | None,
    state: DeflectionState | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[KbDeflection], str | None]:
    """Newest first, by (offered_at, id): the index the range reads."""
    statement = _in_range(select(KbDeflection), principal, start, end)
    if state is not None:
        statement = statement.where(KbDeflection.state == state)
    keys = [
        SortKey(KbDeflection.offered_at, lambda d: d.offered_at, descending=True),
        SortKey(KbDeflection.id, lambda d: d.id, descending=True),
    ]
    return await paginate(
        session, statement, keys=keys, limit=limit, cursor=cursor, ordering="-offered_at"
    )


async def count_deflections(
    session: AsyncSession, principal: Principal, *, start: datetime | None, end: datetime | None
) -> DeflectionCounts:
    rows = (
        await session.execute(
            _in_range(
                select(KbDeflection.state, func.count()).group_by(KbDeflection.state),
                principal,
                start,
                end,
            )
        )
    ).all()
    by_state = {row[0]: int(row[1]) for row in rows}
    return DeflectionCounts(
        offered=sum(by_state.values()),
        accepted=by_state.get(DeflectionState.accepted, 0),
        rejected=by_state.get(DeflectionState.rejected, 0),
        unanswered=by_state.get(DeflectionState.offered, 0),
    )

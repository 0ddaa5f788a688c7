"""CCs (customers who see a ticket's public side) and followers (staff who get its events).

The kind follows the user's role, so a CC can never widen what staff see nor a follower
narrow it.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.actor import Actor
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput, NotFound
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.models import CcKind, Role, Ticket, TicketCc, User
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.pipeline import commit_change
from helpdesk_api.tickets.service import get_visible_ticket


def kind_for(role: str) -> CcKind:
    return CcKind.cc if role == Role.customer else CcKind.follower


async def add_ccs(
    session: AsyncSession, ticket: Ticket, user_ids: Sequence[int], *, created_by: int | None
) -> list[dict[str, object]]:
    """Copy active users onto ``ticket``; returns those who were not on it yet."""
    if not user_ids:
        return []
    users = (
        await session.execute(
            select(User.id, User.role)
            .where(User.id.in_(user_ids), User.is_active.is_(True))
            .order_by(User.id)
        )
    ).all()
    if not users:
        return []
    added = await session.scalars(
        insert(TicketCc)
        .values(
            [
                {
                    "ticket_id": ticket.id,
                    "user_id": user_id,
                    "kind": kind_for(role),
                    "created_by": created_by,
                }
                for user_id, role in users
            ]
        )
        .on_conflict_do_nothing()
        .returning(TicketCc.user_id)
    )
    new = set(added)
    return [{"user_id": u, "kind": kind_for(r).value} for u, r in users if u in new]


async def list_ccs(
    session: AsyncSession, principal: Principal, ticket_id: int, *, limit: int, cursor: str | None
) -> tuple[list[TicketCc], str | None]:
    await get_visible_ticket(session, principal, ticket_id)
    return await paginate(
        session,
        select(TicketCc).where(TicketCc.ticket_id == ticket_id),
        keys=[SortKey(TicketCc.user_id, lambda c: c.user_id)],
        limit=limit,
        cursor=cursor,
        ordering="ccs",
    )


async def add_cc(
    session: AsyncSession, principal: Principal, ticket_id: int, user_id: int, *, now: datetime
) -> None:
    """Adding someone already copied is a no-op."""
    ticket = await get_visible_ticket(session, principal, ticket_id, for_update=True)
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise InvalidInput(
            f"User {user_id} does not exist or is deactivated.", loc=("path", "user_id")
        )
    if user.id == ticket.requester_id:
        raise InvalidInput(
            f"User {user_id} is the ticket's requester already.", loc=("path", "user_id")
        )
    added = await add_ccs(session, ticket, [user_id], created_by=principal.user_id)
    if added:
        changes = ChangeSet()
        changes.note("cc", None, added[0])
        await commit_change(session, ticket, changes, actor=Actor.of(principal), now=now)


async def remove_cc(
    session: AsyncSession, principal: Principal, ticket_id: int, user_id: int, *, now: datetime
) -> None:
    ticket = await get_visible_ticket(session, principal, ticket_id, for_update=True)
    removed = (
        await session.execute(
            delete(TicketCc)
            .where(TicketCc.ticket_id == ticket.id, TicketCc.user_id == user_id)
            .returning(TicketCc.kind)
        )
    ).scalar_one_or_none()
    if removed is None:
        raise NotFound(f"User {user_id} is not copied on ticket {ticket_id}.")
    changes = ChangeSet()
    changes.note("cc", {"user_id": user_id, "kind": removed}, None)
    await commit_change(session, ticket, changes, actor=Actor.of(principal), now=now)

"""The SQL of routing: a group's members, locking the candidates, and their open work.

Every query is one statement for the whole group (no query per agent), and the open-work
count is an index-only range of ``ix_tickets_assignee_id_status_category`` per candidate and
open category, however many solved and closed tickets an agent has.
"""

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.models import (
    ASSIGNABLE_ROLES,
    GroupMembership,
    Organization,
    StatusCategory,
    Ticket,
    User,
)

# "Open work": every status category but solved and closed (pending and on-hold tickets are
# still the agent's to finish).
OPEN_CATEGORIES = tuple(
    c.value for c in StatusCategory if c not in (StatusCategory.solved, StatusCategory.closed)
)


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    skills: frozenset[str]
    availability: str


@dataclass(frozen=True, slots=True)
class Candidate:
    user_id: int
    skills: frozenset[str]
    availability: str
    open_tickets: int
    last_routed_turn: int | None


async def group_members(session: AsyncSession, group_id: int) -> list[Member]:
    """The group's active agents and admins: those routing may ever choose."""
    rows = await session.execute(
        select(User.id, User.skills, User.availability)
        .join(GroupMembership, GroupMembership.user_id == User.id)
        .where(
            GroupMembership.group_id == group_id,
            User.is_active.is_(True),
            User.role.in_(ASSIGNABLE_ROLES),
        )
        .order_by(User.id)
    )
    return [Member(r.id, frozenset(r.skills or ()), r.availability) for r in rows]


async def lock_candidates(session: AsyncSession, user_ids: Collection[int]) -> None:
    """Serialise routing to these agents until this transaction ends, whichever group routes
    to them: a router that counts their open work after this sees every assignment another
    router made to them, committed. In id order, so two routers never deadlock. ``FOR NO KEY
    UPDATE`` does not block tickets that merely reference these users (foreign keys take KEY
    SHARE)."""
    await session.execute(
        select(User.id)
        .where(User.id.in_(sorted(user_ids)))
        .order_by(User.id)
        .with_for_update(key_share=True)
    )


async def workload(
    session: AsyncSession, group_id: int, user_ids: Collection[int]
) -> list[Candidate]:
    """The candidates as they are now (read after ``lock_candidates``, in a statement of its
    own, so its snapshot includes what the routers before it committed)."""
    open_tickets = (
        select(func.count())
        .where(
            Ticket.assignee_id == GroupMembership.user_id,
            Ticket.status_category.in_(OPEN_CATEGORIES),
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            User.id,
            User.skills,
            User.availability,
            GroupMembership.last_routed_turn,
            open_tickets.label("open_tickets"),
        )
        .join(GroupMembership, GroupMembership.user_id == User.id)
        .where(
            GroupMembership.group_id == group_id,
            GroupMembership.user_id.in_(sorted(user_ids)),
            User.is_active.is_(True),
            User.role.in_(ASSIGNABLE_ROLES),
        )
        .order_by(User.id)
    )
    return [
        Candidate(
            r.id, frozenset(r.skills or ()), r.availability, r.open_tickets, r.last_routed_turn
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class TicketContext:
    locale: str | None  # the requester's, else the language detected in the ticket
    account_manager_id: int | None


async def ticket_context(session: AsyncSession, ticket: Ticket) -> TicketContext:
    """The requester's locale and the organisation's account manager, in one query."""
    manager = (
        select(Organization.account_manager_id)
        .where(Organization.id == ticket.organization_id)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(User.locale, manager.label("account_manager_id")).where(
                User.id == ticket.requester_id
            )
        )
    ).one()
    return TicketContext(row.locale or ticket.locale, row.account_manager_id)


TURN_SEQUENCE = "routing_turn_seq"


async def mark_routed(session: AsyncSession, group_id: int, user_id: int) -> None:
    """Round robin's cursor: this member goes to the back of the group's line. Taken under
    the candidates' lock, so the turns follow the order routers held it."""
    await session.execute(
        update(GroupMembership)
        .where(GroupMembership.group_id == group_id, GroupMembership.user_id == user_id)
        .values(last_routed_turn=func.nextval(TURN_SEQUENCE))
        .execution_options(synchronize_session=False)
    )

"""Ticket statuses: what the ticket lifecycle asks of them, and the admin rules that keep one
active default per category. Never commits: the request path does."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.models import (
    Level,
    Priority,
    PriorityMatrixCell,
    StatusCategory,
    Ticket,
    TicketStatus,
)
from helpdesk_api.statuses.schemas import (
    StatusCreate,
    StatusCustomerRead,
    StatusPage,
    StatusRead,
    StatusUpdate,
    StatusView,
)

# Statuses are a handful of rows read several times per request (a new ticket's default, the
# event data, the response): the session reads them all once.
_CACHE = "ticket_statuses"

STATUSES = AdminResource("ticket_status", "/v1/ticket-statuses", TicketStatus, "Ticket status")
_FIELDS = (
    "agent_label", "customer_label", "description", "position", "is_active", "notify_requester",
)  # fmt: skip


async def statuses_by_id(session: AsyncSession, ids: Iterable[int] = ()) -> dict[int, TicketStatus]:
    """Every status by id, read once per session and again if one of ``ids`` is new to it."""
    cache: dict[int, TicketStatus] | None = session.info.get(_CACHE)
    if cache is None or not cache.keys() >= set(ids):
        cache = {s.id: s for s in await session.scalars(select(TicketStatus))}
        session.info[_CACHE] = cache
    return cache


async def default_status(session: AsyncSession, category: StatusCategory) -> TicketStatus:
    for status in (await statuses_by_id(session)).values():
        if status.category == category and status.is_default:
            return status
    # The migration seeds one per category and the service keeps one.
    raise RuntimeError(f"no default status for category {category}")


async def get_usable_status(
    session: AsyncSession, status_id: int, *, loc: tuple[str | int, ...] = ("body", "status_id")
) -> TicketStatus:
    """An active status a ticket may move to; unknown or deactivated ones are a 422.

    FOR KEY SHARE keeps a concurrent delete from removing the status under the ticket.
    """
    status = await session.get(
        TicketStatus, status_id, with_for_update={"key_share": True, "read": True}
    )
    if status is None or not status.is_active:
        raise InvalidInput(f"Ticket status {status_id} does not exist or is inactive.", loc=loc)
    return status


async def priority_from_matrix(session: AsyncSession, impact: Level, urgency: Level) -> Priority:
    cell = await session.get(PriorityMatrixCell, (impact.value, urgency.value))
    return Priority(cell.priority) if cell else Priority.normal


def to_read(status: TicketStatus) -> StatusRead:
    return StatusRead(
        id=status.id,
        category=StatusCategory(status.category),
        agent_label=status.agent_label,
        customer_label=status.customer_label,
        description=status.description,
        is_default=status.is_default,
        is_active=status.is_active,
        notify_requester=status.notify_requester,
        position=status.position,
        created_at=status.created_at,
        updated_at=status.updated_at,
    )


def present(status: TicketStatus, principal: Principal) -> StatusView:
    """The shape this caller may see: customers never get agent labels or descriptions."""
    if principal.is_staff:
        return to_read(status)
    return StatusCustomerRead(
        id=status.id, category=StatusCategory(status.category), label=status.customer_label
    )


async def list_statuses(
    session: AsyncSession,
    principal: Principal,
    *,
    category: StatusCategory | None,
    active: bool | None,
    limit: int,
    cursor: str | None,
) -> StatusPage:
    statement = select(TicketStatus)
    if category is not None:
        statement = statement.where(TicketStatus.category == category)
    if active is not None:
        statement = statement.where(TicketStatus.is_active.is_(active))
    statuses, next_cursor = await paginate(
        session,
        statement,
        keys=[
            SortKey(TicketStatus.position, lambda s: s.position),
            SortKey(TicketStatus.id, lambda s: s.id),
        ],
        limit=limit,
        cursor=cursor,
        ordering="position,id",
    )
    return StatusPage(data=[present(s, principal) for s in statuses], next_cursor=next_cursor)


async def get_status(
    session: AsyncSession, status_id: int, *, for_update: bool = False
) -> TicketStatus:
    return await STATUSES.get(session, status_id, for_update=for_update)


async def _demote_current_default(session: AsyncSession, actor: Principal, category: str) -> None:
    """Unset the category's default so another status can take it in this transaction.

    Flushed at once: the partial unique index allows one default per category at every
    statement, and the unit of work may otherwise order the new default's write first.
    """
    current = await session.scalar(
        select(TicketStatus)
        .where(TicketStatus.category == category, TicketStatus.is_default)
        .with_for_update()
    )
    if current is None:
        return
    current.is_default = False
    await session.flush()
    await STATUSES.record_updated(
        session,
        actor_id=actor.user_id,
        resource_id=current.id,
        changes=field_changes({"is_default": True}, {"is_default": False}),
    )


async def _flush_default_change(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        # Lost a race with a concurrent request making another status the default.
        raise Conflict(
            "Another request changed this category's default status just now; retry."
        ) from exc


async def create_status(
    session: AsyncSession, actor: Principal, data: StatusCreate
) -> TicketStatus:
    position = data.position
    if position is None:
        last = await session.scalar(select(func.max(TicketStatus.position)))
        position = (last or 0) + 1
    if data.is_default:
        await _demote_current_default(session, actor, data.category)
    status = TicketStatus(
        category=data.category,
        agent_label=data.agent_label,
        customer_label=data.customer_label or data.agent_label,
        description=data.description,
        is_default=data.is_default,
        is_active=True,
        notify_requester=data.notify_requester,
        position=position,
    )
    session.add(status)
    await _flush_default_change(session)
    await session.refresh(status)
    await STATUSES.record_created(session, actor_id=actor.user_id, read=to_read(status))
    return status


def _check_default_stays_active(
    status: TicketStatus, fields: dict[str, Any], becomes_default: bool
) -> None:
    if fields.get("is_default") is False and status.is_default:
        raise InvalidInput(
            f"Ticket status {status.id} is the default of category {status.category!r}, and "
            "every category keeps one: to move the default, set is_default true on another "
            "status of that category.",
            loc=("body", "is_default"),
        )
    if fields.get("is_active", status.is_active):
        return
    if status.is_default:
        raise InvalidInput(
            f"Ticket status {status.id} is the default of category {status.category!r} and "
            "must stay active: make another status the default first.",
            loc=("body", "is_active"),
        )
    if becomes_default:
        raise InvalidInput(
            f"Ticket status {status.id} is inactive and a default must be active: "
            "send is_active true with is_default true.",
            loc=("body", "is_default"),
        )


async def update_status(
    session: AsyncSession, actor: Principal, status: TicketStatus, data: StatusUpdate
) -> TicketStatus:
    fields = data.model_dump(exclude_unset=True)
    becomes_default = fields.get("is_default") is True and not status.is_default
    _check_default_stays_active(status, fields, becomes_default)
    if becomes_default:
        await _demote_current_default(session, actor, status.category)
    wanted = {name: fields[name] for name in _FIELDS if name in fields}
    if becomes_default:
        wanted["is_default"] = True
    changes = field_changes({name: getattr(status, name) for name in wanted}, wanted)
    for change in changes:
        setattr(status, change["field"], change["to"])
    if changes:
        await _flush_default_change(session)
        await session.refresh(status)
        await STATUSES.record_updated(
            session, actor_id=actor.user_id, resource_id=status.id, changes=changes
        )
    return status


async def delete_status(
    session: AsyncSession, actor: Principal, status: TicketStatus
) -> TicketStatus | None:
    """Deletes the status, or deactivates it (and returns it) when any ticket uses it.

    ``status`` must be locked FOR UPDATE: a ticket taking this status needs a key-share lock
    on it, so no ticket can start using it between the check and the delete.
    """
    if status.is_default:
        raise InvalidInput(
            f"Ticket status {status.id} is the default of category {status.category!r} and "
            "cannot be deleted: make another status the default first."
        )
    in_use = await session.scalar(select(exists().where(Ticket.status_id == status.id)))
    if in_use:
        if status.is_active:
            status.is_active = False
            await session.flush()
            await session.refresh(status)
            await STATUSES.record_updated(
                session,
                actor_id=actor.user_id,
                resource_id=status.id,
                changes=field_changes({"is_active": True}, {"is_active": False}),
                reason="deleted while in use by tickets",
            )
        return status
    snapshot = to_read(status).model_dump(mode="json")
    await session.delete(status)
    await session.flush()
    await record_event(
        session,
        EventType.ticket_status_deleted,
        actor_id=actor.user_id,
        data={"ticket_status": snapshot},
    )
    return None

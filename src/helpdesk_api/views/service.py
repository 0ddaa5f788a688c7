"""Views as agents and admins manage them, and the tickets they list. Never commits: the
request path does.

Who sees a view is ``access.sharing``'s rule, as for macros; admins manage shared and group
views, each agent their own personal ones. A view lists tickets through the caller's own
ticket visibility: a shared view shows each agent what they may see of it.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.access.sharing import (
    change_sharing,
    check_new_sharing,
    ensure_may_manage,
    shared_with,
)
from helpdesk_api.automation.custom_conditions import canonical
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import NotFound
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.models import View, ViewVisibility
from helpdesk_api.tickets import TicketFilters, TicketSort, list_tickets
from helpdesk_api.views.conditions import ViewConditions, view_filter
from helpdesk_api.views.schemas import ViewCreate, ViewPage, ViewRead, ViewUpdate

VIEWS = AdminResource("view", "/v1/views", View, "View")


def to_read(view: View) -> ViewRead:
    return ViewRead(
        id=view.id,
        title=view.title,
        description=view.description,
        active=view.is_active,
        visibility=ViewVisibility(view.visibility),
        group_id=view.group_id,
        owner_id=view.owner_id,
        conditions=ViewConditions.model_validate(view.conditions),
        sort=TicketSort(view.sort),
        columns=view.columns,
        position=view.position,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def visible_views(principal: Principal) -> Select[View]:
    return select(View).where(shared_with(principal, View.visibility, View.group_id, View.owner_id))


async def list_views(
    session: AsyncSession,
    principal: Principal,
    *,
    active: bool | None,
    limit: int,
    cursor: str | None,
) -> ViewPage:
    statement = visible_views(principal)
    if active is not None:
        statement = statement.where(View.is_active.is_(active))
    keys = [SortKey(View.position, lambda v: v.position), SortKey(View.id, lambda v: v.id)]
    views, next_cursor = await paginate(
        session, statement, keys=keys, limit=limit, cursor=cursor, ordering="position"
    )
    return ViewPage(data=[to_read(v) for v in views], next_cursor=next_cursor)


async def get_view(
    session: AsyncSession, principal: Principal, view_id: int, *, for_update: bool = False
) -> View:
    statement = visible_views(principal).where(View.id == view_id)
    if for_update:
        statement = statement.with_for_update()
    view = await session.scalar(statement)
    if view is None:
        raise NotFound(f"View {view_id} does not exist.")
    return view


async def create_view(session: AsyncSession, principal: Principal, data: ViewCreate) -> View:
    owner_id = await check_new_sharing(session, principal, data.visibility, data.group_id, "view")
    view = View(
        title=data.title,
        description=data.description,
        is_active=data.active,
        visibility=data.visibility,
        group_id=data.group_id,
        owner_id=owner_id,
        conditions=(await canonical(session, data.conditions)).model_dump(mode="json"),
        sort=data.sort.value,
        columns=data.columns,
        position=data.position,
        created_by_id=principal.user_id,
    )
    session.add(view)
    await session.flush()
    await session.refresh(view)
    await VIEWS.record_created(session, actor_id=principal.user_id, read=to_read(view))
    return view


def _snapshot(view: View) -> dict[str, Any]:
    return to_read(view).model_dump(mode="json", exclude={"id", "created_at", "updated_at"})


async def update_view(
    session: AsyncSession, principal: Principal, view: View, data: ViewUpdate
) -> View:
    """The caller must manage the view as it is and as it will be."""
    fields = data.model_dump(exclude_unset=True)
    before = _snapshot(view)
    await change_sharing(
        session, principal, view, fields=fields, visibility=data.visibility,
        group_id=data.group_id, noun="view",
    )  # fmt: skip
    if data.conditions is not None and "conditions" in fields:
        view.conditions = (await canonical(session, data.conditions)).model_dump(mode="json")
    if data.sort is not None and "sort" in fields:
        view.sort = data.sort.value
    for name, attribute in (("title", "title"), ("description", "description"),
                            ("active", "is_active"), ("columns", "columns"),
                            ("position", "position")):  # fmt: skip
        if name in fields:
            setattr(view, attribute, fields[name])
    changes = field_changes(before, _snapshot(view))
    if changes:
        await session.flush()
        await session.refresh(view)
        await VIEWS.record_updated(
            session, actor_id=principal.user_id, resource_id=view.id, changes=changes
        )
    return view


async def delete_view(session: AsyncSession, principal: Principal, view: View) -> None:
    ensure_may_manage(principal, view.visibility, "view")
    read = to_read(view)
    await session.execute(delete(View).where(View.id == view.id))
    await record_event(
        session,
        EventType.view_deleted,
        actor_id=principal.user_id,
        data={"view": read.model_dump(mode="json")},
    )


async def view_tickets(
    session: AsyncSession,
    principal: Principal,
    view: View,
    *,
    now: datetime,
    limit: int,
    cursor: str | None,
) -> tuple[list[Row[Any]], str | None]:
    """A page of the view's tickets in its sort, as the caller may see them; an inactive
    view lists nothing."""
    if not view.is_active:
        return [], None
    where = view_filter(ViewConditions.model_validate(view.conditions), principal, now)
    return await list_tickets(
        session,
        principal,
        TicketFilters(status_category=[], now=now),
        sort=TicketSort(view.sort),
        limit=limit,
        cursor=cursor,
        where=[where],
    )

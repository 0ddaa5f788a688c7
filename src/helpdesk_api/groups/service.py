"""Rules for groups and their members. Never commits: the request path does."""

from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput, NotFound
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.groups.schemas import GroupCreate, GroupRead, GroupUpdate, RoutingRead
from helpdesk_api.models import Group, GroupMembership, RoutingMode, User
from helpdesk_api.users import service as users_service
from helpdesk_api.users.schemas import UserRead

_USER_LOC = ("path", "user_id")

GROUPS = AdminResource("group", "/v1/groups", Group, "Group")


async def is_member(session: AsyncSession, group_id: int, user_id: int) -> bool:
    """Whether ``user_id`` belongs to ``group_id`` (active or not: callers check that)."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    GroupMembership.group_id == group_id, GroupMembership.user_id == user_id
                )
            )
        )
    )


# The API's ``routing`` object, field by field, and the column that keeps each.
ROUTING_COLUMNS = {
    "mode": "routing_mode",
    "respect_availability": "routing_respect_availability",
    "max_open_per_agent": "routing_max_open_per_agent",
    "match_language": "routing_match_language",
}


def to_read(group: Group) -> GroupRead:
    return GroupRead(
        id=group.id,
        name=group.name,
        description=group.description,
        is_active=group.is_active,
        routing=RoutingRead(
            mode=RoutingMode(group.routing_mode),
            respect_availability=group.routing_respect_availability,
            max_open_per_agent=group.routing_max_open_per_agent,
            match_language=group.routing_match_language,
        ),
        created_at=group.created_at,
        updated_at=group.updated_at,
    )


async def get_group(session: AsyncSession, group_id: int, *, for_update: bool = False) -> Group:
    return await GROUPS.get(session, group_id, for_update=for_update)


async def list_groups(
    session: AsyncSession, *, is_active: bool | None, limit: int, cursor: str | None
) -> tuple[list[Group], str | None]:
    statement: Select[Any] = select(Group)
    if is_active is not None:
        statement = statement.where(Group.is_active.is_(is_active))
    return await paginate(
        session, statement, keys=[SortKey(Group.id, lambda g: g.id)], limit=limit, cursor=cursor
    )


async def _ensure_name_free(
    session: AsyncSession, name: str, *, exclude_id: int | None = None
) -> None:
    statement = select(Group.id).where(func.lower(Group.name) == name.lower())
    if exclude_id is not None:
        statement = statement.where(Group.id != exclude_id)
    clash = await session.scalar(statement)
    if clash is not None:
        raise Conflict(f"Group {clash} is already named {name!r} (names ignore case).")


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("Another group took this name just now.") from exc


async def create_group(session: AsyncSession, actor: Principal, data: GroupCreate) -> Group:
    await _ensure_name_free(session, data.name)
    routing = {ROUTING_COLUMNS[name]: value for name, value in data.routing.model_dump().items()}
    group = Group(name=data.name, description=data.description, **routing)
    session.add(group)
    await _flush(session)
    await session.refresh(group)
    await GROUPS.record_created(session, actor_id=actor.user_id, read=to_read(group))
    return group


async def update_group(
    session: AsyncSession, actor: Principal, group: Group, data: GroupUpdate
) -> Group:
    fields = data.model_dump(exclude_unset=True)
    routing = fields.pop("routing", {})
    changes = field_changes({name: getattr(group, name) for name in fields}, fields)
    for name, value in routing.items():
        column = ROUTING_COLUMNS[name]
        if getattr(group, column) != value:
            changes.append(
                {"field": f"routing.{name}", "from": getattr(group, column), "to": value}
            )
    if not changes:
        return group
    if "name" in fields:
        await _ensure_name_free(session, fields["name"], exclude_id=group.id)
    for change in changes:
        name = change["field"]
        column = ROUTING_COLUMNS[name.removeprefix("routing.")] if "." in name else name
        setattr(group, column, change["to"])
    await _flush(session)
    await session.refresh(group)
    await GROUPS.record_updated(
        session, actor_id=actor.user_id, resource_id=group.id, changes=changes
    )
    return group


async def list_members(
    session: AsyncSession, group_id: int, *, limit: int, cursor: str | None
) -> tuple[list[UserRead], str | None]:
    await get_group(session, group_id)
    users, next_cursor = await paginate(
        session,
        select(User)
        .join(GroupMembership, GroupMembership.user_id == User.id)
        .where(GroupMembership.group_id == group_id)
        .options(selectinload(User.identities)),
        keys=[SortKey(User.id, lambda u: u.id)],
        limit=limit,
        cursor=cursor,
    )
    return [users_service.to_read(u) for u in users], next_cursor


async def add_member(session: AsyncSession, actor: Principal, group_id: int, user_id: int) -> None:
    """Idempotent: adding a member twice changes nothing and records one event."""
    await get_group(session, group_id, for_update=True)
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise InvalidInput(f"User {user_id} does not exist.", loc=_USER_LOC, type="unknown_user")
    if not user.is_staff:
        raise InvalidInput(
            f"User {user_id} is a {user.role}; only staff (admin, agent, light_agent) "
            "may be group members.",
            loc=_USER_LOC,
            type="not_staff",
        )
    added = await session.scalar(
        insert(GroupMembership)
        .values(group_id=group_id, user_id=user_id)
        .on_conflict_do_nothing(index_elements=["group_id", "user_id"])
        .returning(GroupMembership.user_id)
    )
    if added is not None:
        await record_event(
            session,
            EventType.group_member_added,
            actor_id=actor.user_id,
            data={"group_id": group_id, "user_id": user_id},
        )


async def remove_member(
    session: AsyncSession, actor: Principal, group_id: int, user_id: int
) -> None:
    await get_group(session, group_id, for_update=True)
    membership = await session.get(GroupMembership, (group_id, user_id))
    if membership is None:
        raise NotFound(f"User {user_id} is not a member of group {group_id}.")
    await session.delete(membership)
    await session.flush()
    await record_event(
        session,
        EventType.group_member_removed,
        actor_id=actor.user_id,
        data={"group_id": group_id, "user_id": user_id},
    )

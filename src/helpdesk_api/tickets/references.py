"""Checks on what a ticket may point at: groups, assignees, requesters."""

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.groups.service import is_member
from helpdesk_api.models import Group, Role, User

ASSIGNABLE_ROLES = frozenset({Role.agent, Role.admin})


async def check_group(session: AsyncSession, group_id: int) -> Group:
    group = await session.get(Group, group_id)
    if group is None or not group.is_active:
        raise InvalidInput(
            f"Group {group_id} does not exist or is inactive.", loc=("body", "group_id")
        )
    return group


async def resolve_assignee(
    session: AsyncSession, principal: Principal, value: int | Literal["me"]
) -> int:
    assignee_id = principal.user_id if value == "me" else value
    user = await session.get(User, assignee_id)
    if user is None or not user.is_active or user.role not in ASSIGNABLE_ROLES:
        raise InvalidInput(
            f"User {assignee_id} is not an active agent and cannot be assigned tickets.",
            loc=("body", "assignee_id"),
        )
    return assignee_id


async def check_assignee_in_group(
    session: AsyncSession, assignee_id: int | None, group_id: int | None
) -> None:
    if assignee_id is None or group_id is None:
        return
    if not await is_member(session, group_id, assignee_id):
        raise InvalidInput(
            f"User {assignee_id} is not a member of group {group_id}; assign someone from "
            "the group, or change the group in the same request.",
            loc=("body", "assignee_id"),
        )


async def check_requester(session: AsyncSession, requester_id: int) -> User:
    user = await session.get(User, requester_id)
    if user is None or not user.is_active:
        raise InvalidInput(
            f"User {requester_id} does not exist or is deactivated.", loc=("body", "requester_id")
        )
    return user

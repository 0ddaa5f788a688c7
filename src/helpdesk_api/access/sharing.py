"""Personal, group and shared items (macros, views): who sees them, as SQL, and who
manages them, as checks.

Agents see shared items, their groups' and their own personal ones; admins see every shared
and group item and their own personal ones. Nobody sees another person's personal item: it
is a 404, so its existence does not leak. Admins manage shared and group items; each person
(admins included) their own personal ones.
"""

from collections.abc import Collection
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden, InvalidInput
from helpdesk_api.models import Group

PERSONAL, GROUP, SHARED = "personal", "group", "shared"


class Shareable(Protocol):
    visibility: str
    group_id: int | None
    owner_id: int | None


def shared_with(
    principal: Principal, visibility: Any, group_id: Any, owner_id: Any
) -> ColumnElement[bool]:
    """``visibility``, ``group_id`` and ``owner_id``: the item's columns."""
    own = owner_id == principal.user_id
    shared = visibility == SHARED
    if principal.is_admin:
        return or_(shared, visibility == GROUP, own)
    return or_(shared, and_(visibility == GROUP, group_id.in_(principal.group_ids)), own)


def ensure_may_manage(principal: Principal, visibility: str, noun: str) -> None:
    """Someone else's personal item is already hidden by ``shared_with``."""
    if visibility != PERSONAL and not principal.is_admin:
        raise Forbidden(f"Only admins manage group and shared {noun}s; agents keep personal ones.")


async def check_new_sharing(
    session: AsyncSession, principal: Principal, visibility: str, group_id: int | None, noun: str
) -> int | None:
    """Checks a new item's sharing; its owner: the caller for a personal item, else none."""
    ensure_may_manage(principal, visibility, noun)
    await _check_group(session, visibility, group_id, noun)
    return principal.user_id if visibility == PERSONAL else None


async def change_sharing(
    session: AsyncSession,
    principal: Principal,
    item: Shareable,
    *,
    fields: Collection[str],
    visibility: str | None,
    group_id: int | None,
    noun: str,
) -> None:
    """The caller must manage the item as it is and as it will be: an agent cannot share a
    personal item, nor an admin turn a shared one into someone's personal one. ``fields``:
    what the request set; a group left behind goes with the visibility that needed it."""
    ensure_may_manage(principal, item.visibility, noun)
    new_visibility = visibility if "visibility" in fields and visibility else item.visibility
    ensure_may_manage(principal, new_visibility, noun)
    if "visibility" not in fields and "group_id" not in fields:
        return
    if "group_id" in fields:
        new_group_id = group_id
    elif "visibility" in fields and new_visibility != GROUP:
        new_group_id = None
    else:
        new_group_id = item.group_id
    await _check_group(session, new_visibility, new_group_id, noun)
    item.visibility, item.group_id = new_visibility, new_group_id
    item.owner_id = (item.owner_id or principal.user_id) if new_visibility == PERSONAL else None


async def _check_group(
    session: AsyncSession, visibility: str, group_id: int | None, noun: str
) -> None:
    if visibility != GROUP:
        if group_id is not None:
            raise InvalidInput(f"group_id is only for group {noun}s.", loc=("body", "group_id"))
        return
    if group_id is None:
        raise InvalidInput(f"A group {noun} needs its group_id.", loc=("body", "group_id"))
    usable = await session.scalar(select(Group.id).where(Group.id == group_id, Group.is_active))
    if usable is None:
        raise InvalidInput(
            f"group_id: group {group_id} does not exist or is inactive.", loc=("body", "group_id")
        )

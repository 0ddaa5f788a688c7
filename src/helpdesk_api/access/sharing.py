"""Who sees a personal, group or shared item (macros, views), as SQL.

Agents see shared items, their groups' and their own personal ones; admins see every shared
and group item and their own personal ones. Nobody sees another person's personal item: it
is a 404, so its existence does not leak.
"""

from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from helpdesk_api.core.auth import Principal


def shared_with(
    principal: Principal, visibility: Any, group_id: Any, owner_id: Any
) -> ColumnElement[bool]:
    """``visibility``, ``group_id`` and ``owner_id``: the item's columns."""
    own = owner_id == principal.user_id
    shared = visibility == "shared"
    if principal.is_admin:
        return or_(shared, visibility == "group", own)
    return or_(shared, and_(visibility == "group", group_id.in_(principal.group_ids)), own)

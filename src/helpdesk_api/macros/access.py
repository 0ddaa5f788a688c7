"""Who sees and who manages which macro, as SQL and as checks.

Agents see shared macros, their groups' and their own personal ones; admins see every
shared and group macro and their own personal ones. Nobody sees another person's personal
macro: it is a 404, so its existence does not leak. Admins manage shared and group macros;
each agent (admins included) manages their own personal ones.
"""

from sqlalchemy import ColumnElement, Select, and_, or_, select

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden, NotFound
from helpdesk_api.models import Macro, MacroVisibility


def macro_visibility(principal: Principal) -> ColumnElement[bool]:
    own = Macro.owner_id == principal.user_id
    shared = Macro.visibility == MacroVisibility.shared
    if principal.is_admin:
        return or_(shared, Macro.visibility == MacroVisibility.group, own)
    in_my_groups = and_(
        Macro.visibility == MacroVisibility.group, Macro.group_id.in_(principal.group_ids)
    )
    return or_(shared, in_my_groups, own)


def visible_macros(principal: Principal) -> Select[Macro]:
    return select(Macro).where(macro_visibility(principal))


def not_found(macro_id: int) -> NotFound:
    return NotFound(f"Macro {macro_id} does not exist.")


def ensure_may_manage(principal: Principal, visibility: str) -> None:
    """Personal macros are their owner's (visibility already hid the others')."""
    if visibility != MacroVisibility.personal and not principal.is_admin:
        raise Forbidden("Only admins manage group and shared macros; agents keep personal ones.")

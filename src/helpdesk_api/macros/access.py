"""Who sees and who manages which macro, as SQL and as checks: seeing as
``access.sharing`` says; admins manage shared and group macros, each agent (admins
included) their own personal ones.
"""

from sqlalchemy import ColumnElement, Select, select

from helpdesk_api.access.sharing import shared_with
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden, NotFound
from helpdesk_api.models import Macro, MacroVisibility


def macro_visibility(principal: Principal) -> ColumnElement[bool]:
    return shared_with(principal, Macro.visibility, Macro.group_id, Macro.owner_id)


def visible_macros(principal: Principal) -> Select[Macro]:
    return select(Macro).where(macro_visibility(principal))


def not_found(macro_id: int) -> NotFound:
    return NotFound(f"Macro {macro_id} does not exist.")


def ensure_may_manage(principal: Principal, visibility: str) -> None:
    """Personal macros are their owner's (visibility already hid the others')."""
    if visibility != MacroVisibility.personal and not principal.is_admin:
        raise Forbidden("Only admins manage group and shared macros; agents keep personal ones.")

"""Which macros a caller sees, as SQL: ``access.sharing``'s rule, which also says who
manages them."""

from sqlalchemy import ColumnElement, Select, select

from helpdesk_api.access.sharing import shared_with
from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import NotFound
from helpdesk_api.models import Macro


def macro_visibility(principal: Principal) -> ColumnElement[bool]:
    return shared_with(principal, Macro.visibility, Macro.group_id, Macro.owner_id)


def visible_macros(principal: Principal) -> Select[Macro]:
    return select(Macro).where(macro_visibility(principal))


def not_found(macro_id: int) -> NotFound:
    return NotFound(f"Macro {macro_id} does not exist.")

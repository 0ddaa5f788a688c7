"""Who may create and change which users: admins anyone; agents customers only.

Agents keep customer records up to date (name, contact details, organisation, notes, tags,
identities) without an admin; staff records, roles and passwords stay the admins'.
"""

from collections.abc import Iterable

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Forbidden
from helpdesk_api.models import Role, User

# What an agent may not set on a customer: a role would make them staff; a password would
# let the agent sign in as them.
ADMIN_ONLY_FIELDS = frozenset({"role", "password", "ticket_access", "skills", "availability"})


def check_may_create(principal: Principal, role: Role) -> None:
    if not principal.is_admin and role != Role.customer:
        raise Forbidden("Agents create customers only; staff users are created by an admin.")


def check_may_edit(principal: Principal, user: User, fields: Iterable[str] = ()) -> None:
    if principal.is_admin:
        return
    if user.role != Role.customer:
        raise Forbidden(f"User {user.id} is staff: only an admin changes staff records.")
    refused = sorted(ADMIN_ONLY_FIELDS.intersection(fields))
    if refused:
        raise Forbidden(f"Only an admin sets {', '.join(refused)}.")

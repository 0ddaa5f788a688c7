"""Who makes a change, and how it reached us: the same for a request, the worker, a channel or a
rule, so every writer of tickets speaks through one type."""

from dataclasses import dataclass, field, replace

from helpdesk_api.core.auth import Principal
from helpdesk_api.models import Role, Via

REPLYING_ROLES = frozenset({Role.admin, Role.agent})


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None  # None: the service itself (SLA timers, rules with no author)
    role: Role | None
    via: Via = Via.api
    # A person acts within what they may see: changes that spread to other tickets (a
    # problem's reply to its incidents) reach only those. None: the service, which sees all.
    principal: Principal | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, principal: Principal, via: Via = Via.api) -> "Actor":
        return cls(user_id=principal.user_id, role=principal.role, via=via, principal=principal)

    @classmethod
    def system(cls, via: Via) -> "Actor":
        return cls(user_id=None, role=None, via=via)

    def by(self, via: Via) -> "Actor":
        """The same person, through another path (a merge, a propagated reply, …)."""
        return replace(self, via=via)

    @property
    def is_agent(self) -> bool:
        """May write public replies: its public comments answer the customer."""
        return self.role in REPLYING_ROLES

    @property
    def is_customer(self) -> bool:
        return self.role == Role.customer

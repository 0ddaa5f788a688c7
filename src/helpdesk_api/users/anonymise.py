"""Forgetting a customer (GDPR erasure) while keeping their tickets for statistics.

The user row stays (tickets, comments and ratings point at it) under a neutral name; what
identifies the person goes: identities, external id, notes, tags, locale, time zone,
organisation, password and tokens, the mail headers kept on their comments (``source``:
addresses and names) and their words in satisfaction ratings. Comment bodies stay: they are
the tickets' content (an agent redacts a message that quotes personal data). Staff are
refused: their records are the service's own. Recorded as ``user.updated`` (``anonymized``).
"""

from datetime import datetime

from sqlalchemy import delete, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict
from helpdesk_api.core.resource import touch
from helpdesk_api.models import (
    Role,
    SatisfactionRating,
    Ticket,
    TicketCc,
    TicketComment,
    User,
    UserIdentity,
)
from helpdesk_api.users import service
from helpdesk_api.users.tokens import revoke_tokens

ANONYMOUS_NAME = "Anonymous customer"


async def anonymise_user(
    session: AsyncSession, principal: Principal, user: User, *, now: datetime
) -> User:
    """``user`` locked for update."""
    if user.role != Role.customer:
        raise Conflict(f"User {user.id} is staff: only customers are anonymised.")
    if user.name == ANONYMOUS_NAME and not user.identities and not user.is_active:
        return user  # already done: nothing to record twice
    # Their tickets and those they were copied on: each found from an index, so the comments
    # are found by ticket rather than by scanning every comment for an author.
    own = select(Ticket.id).where(Ticket.requester_id == user.id)
    copied = select(TicketCc.ticket_id).where(TicketCc.user_id == user.id)
    await session.execute(
        update(TicketComment)
        .where(
            or_(TicketComment.ticket_id.in_(own), TicketComment.ticket_id.in_(copied)),
            TicketComment.author_id == user.id,
            TicketComment.source.is_not(None),
        )
        .values(source=null())
    )
    await session.execute(
        update(SatisfactionRating)
        .where(SatisfactionRating.ticket_id.in_(own), SatisfactionRating.comment.is_not(None))
        .values(comment=None)
    )
    await session.execute(delete(UserIdentity).where(UserIdentity.user_id == user.id))
    await revoke_tokens(session, user.id, now=now)
    user.name = ANONYMOUS_NAME
    user.external_id = None
    user.notes = None
    user.tags = []
    user.locale = None
    user.time_zone = None
    user.organization_id = None
    user.password_hash = None
    user.notification_settings = {}
    user.is_active = False
    touch(user)
    await session.flush()
    session.expire(user, ["identities"])
    await service.USERS.record_updated(
        session,
        actor_id=principal.user_id,
        resource_id=user.id,
        changes=[{"field": "anonymized", "from": False, "to": True}],
    )
    return await service.get_user(session, user.id)

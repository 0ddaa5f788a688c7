"""Articles that may answer a ticket or a request being written: from its subject, first
comment, tags and locale, among what the caller may read."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.kb import search
from helpdesk_api.kb.locales import parse_locale
from helpdesk_api.kb.public import suggested
from helpdesk_api.kb.public_schemas import SuggestionList
from helpdesk_api.kb.search import STAFF, Audience
from helpdesk_api.models import TicketComment, User
from helpdesk_api.tickets import get_visible_ticket

# Without a locale on the ticket or its requester.
DEFAULT_LOCALE = "en"


async def for_ticket(
    session: AsyncSession, principal: Principal, ticket_id: int, *, limit: int
) -> SuggestionList:
    """Staff: published articles of every visibility (internal ones to link in notes);
    the ticket's customer: public and signed-in ones. 404 for a ticket the caller may not
    see."""
    ticket = await get_visible_ticket(session, principal, ticket_id)
    first = select(TicketComment.body).where(TicketComment.ticket_id == ticket.id)
    if not principal.is_staff:
        first = first.where(TicketComment.is_public.is_(True))
    body = await session.scalar(first.order_by(TicketComment.id).limit(1))
    locale = ticket.locale or await session.scalar(
        select(User.locale).where(User.id == ticket.requester_id)
    )
    audience = STAFF if principal.is_staff else search.SIGNED_IN
    return await for_text(
        session,
        audience,
        locale=parse_locale(locale or "") or DEFAULT_LOCALE,
        text=f"{ticket.subject}\n{body or ''}",
        labels=ticket.tags,
        limit=limit,
    )


async def for_text(
    session: AsyncSession,
    audience: Audience,
    *,
    locale: str,
    text: str,
    labels: list[str] | tuple[str, ...] = (),
    limit: int,
) -> SuggestionList:
    hits = await search.suggest(
        session, audience, locale=locale, text=text, labels=labels, limit=limit
    )
    return SuggestionList(data=[suggested(h) for h in hits])

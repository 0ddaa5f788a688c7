"""The rating links a solved notice carries (``satisfaction``: one token per resolution)."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.settings import Settings
from helpdesk_api.models import Ticket
from helpdesk_api.notifications.context import SatisfactionContext
from helpdesk_api.satisfaction import offer_rating, rating_links


async def rating_context(
    session: AsyncSession, settings: Settings, ticket: Ticket, *, now: datetime
) -> SatisfactionContext | None:
    """Links for the requester to rate the solved ``ticket``; None when there is nothing to
    offer (ratings off, no rating page, not solved, a staff requester)."""
    token = await offer_rating(session, settings, ticket, now=now)
    if token is None:
        return None
    url, good_url, bad_url = rating_links(settings, token)
    return SatisfactionContext(url=url, good_url=good_url, bad_url=bad_url)

"""What product, and which of the requester's assets, a ticket is about.

Staff set ``product_id`` / ``asset_id`` (an asset implies its product, and must be the
requester's); intake matches them when the customer does not say (``auto_match``), as its
own audited change under ``via: auto_match``, which an agent's later change overrides.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.actor import Actor
from helpdesk_api.core.errors import InvalidInput
from helpdesk_api.models import Asset, Ticket, TicketComment, Via
from helpdesk_api.products.catalogue import check_product
from helpdesk_api.products.matching import choose, owned_assets, suggestions
from helpdesk_api.products.schemas import SuggestedProductList
from helpdesk_api.tickets.changes import ChangeSet
from helpdesk_api.tickets.pipeline import commit_change

AUTO_MATCH = Actor.system(Via.auto_match)


async def check_asset(session: AsyncSession, asset_id: int, requester_id: int) -> Asset:
    """The requester's asset, or a 422: another customer's asset reads as unknown."""
    asset = await session.scalar(
        select(Asset).where(Asset.id == asset_id, Asset.user_id == requester_id)
    )
    if asset is None:
        raise InvalidInput(
            f"Asset {asset_id} does not exist or is not the requester's (user {requester_id}).",
            loc=("body", "asset_id"),
        )
    return asset


async def resolve(
    session: AsyncSession,
    requester_id: int,
    product_id: int | None,
    asset_id: int | None,
) -> tuple[int | None, int | None]:
    """(product_id, asset_id) for a new ticket, checked: the asset's product when only the
    asset is given, a 422 when they disagree."""
    if asset_id is not None:
        asset = await check_asset(session, asset_id, requester_id)
        if product_id is not None and product_id != asset.product_id:
            raise InvalidInput(
                f"Asset {asset_id} is product {asset.product_id}, not {product_id}.",
                loc=("body", "product_id"),
            )
        return asset.product_id, asset.id
    if product_id is not None:
        await check_product(session, product_id, loc=("body", "product_id"))
    return product_id, None


async def apply_change(
    session: AsyncSession,
    ticket: Ticket,
    fields: set[str],
    product_id: int | None,
    asset_id: int | None,
    changes: ChangeSet,
) -> None:
    """A staff change of the ticket's product or asset, and what a change of requester
    leaves of them (the asset goes when it is not the new requester's)."""
    if "asset_id" in fields and asset_id is not None:
        wanted = product_id if "product_id" in fields else None
        product_id, asset_id = await resolve(session, ticket.requester_id, wanted, asset_id)
        changes.set(ticket, "product_id", product_id)
        changes.set(ticket, "asset_id", asset_id)
        return
    if "product_id" in fields:
        if product_id is not None:
            await check_product(session, product_id, loc=("body", "product_id"))
        changes.set(ticket, "product_id", product_id)
    if "asset_id" in fields:
        changes.set(ticket, "asset_id", None)
    if ticket.asset_id is None:
        return
    asset = await session.get(Asset, ticket.asset_id)
    if (
        asset is None
        or asset.user_id != ticket.requester_id
        or asset.product_id != ticket.product_id
    ):
        changes.set(ticket, "asset_id", None)


async def auto_match(session: AsyncSession, ticket: Ticket, text: str, *, now: datetime) -> None:
    """On intake, when the ticket names no product: the requester's asset it is about, if
    there is no doubt (``products.matching``)."""
    match = choose(await owned_assets(session, ticket.requester_id), text)
    if match is None:
        return
    changes = ChangeSet()
    changes.set(ticket, "product_id", match.product_id)
    changes.set(ticket, "asset_id", match.asset_id)
    await session.flush()
    await commit_change(session, ticket, changes, actor=AUTO_MATCH, now=now)


async def suggest(session: AsyncSession, ticket: Ticket) -> SuggestedProductList:
    """The requester's assets, those the subject and first comment name first."""
    first = await session.scalar(
        select(TicketComment.body)
        .where(TicketComment.ticket_id == ticket.id)
        .order_by(TicketComment.id)
        .limit(1)
    )
    text = f"{ticket.subject}\n{first or ''}"
    return SuggestedProductList(data=await suggestions(session, ticket.requester_id, text))

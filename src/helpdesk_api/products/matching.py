"""Which of the requester's assets a new ticket is about, when the customer does not say.

A ticket is matched when the requester owns exactly one asset, or when its text (subject and
first comment) names exactly one of their assets by serial or order number, or one product
they own by name (then its asset too, when they own one of it). Anything less certain is
left to an agent, as ranked suggestions. Only the requester's own assets are considered: a
serial number of someone else's device never matches.
"""

import re
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.models import Asset, Product
from helpdesk_api.products.assets import assets_with_products, to_read
from helpdesk_api.products.schemas import MatchReason, ProductRef, SuggestedProduct

# A customer with more assets than this is matched (and suggested) among the first ones only:
# intake must cost the same for a reseller with thousands of devices.
MAX_ASSETS = 200
# Shorter numbers and names appear in text by chance ("order 12", "the Go").
MIN_CODE_LENGTH = 4
MIN_NAME_LENGTH = 3
MAX_SUGGESTIONS = 20
# Customers name the device at the start; a long e-mail's quoted history and signatures would
# only cost time (every owned asset's codes are searched for).
MAX_TEXT = 20_000


@dataclass(frozen=True)
class Owned:
    asset: Asset
    product: Product


@dataclass
class Candidate:
    owned: Owned
    reasons: list[MatchReason] = field(default_factory=list)


@dataclass(frozen=True)
class Match:
    product_id: int
    asset_id: int | None
    reason: MatchReason


def _names(text: str, needle: str | None, minimum: int) -> bool:
    if needle is None or len(needle.strip()) < minimum:
        return False
    # Whole words only, case ignored: "SN-1234" must not match inside "SN-12345".
    pattern = rf"(?<![0-9a-z]){re.escape(needle.strip().lower())}(?![0-9a-z])"
    return re.search(pattern, text) is not None


def rank(owned: list[Owned], text: str) -> list[Candidate]:
    """Every owned asset with what the text says of it, the most named first."""
    lowered = text[:MAX_TEXT].lower()
    candidates = []
    for item in owned:
        reasons = []
        if _names(lowered, item.asset.serial_number, MIN_CODE_LENGTH):
            reasons.append(MatchReason.serial_number)
        if _names(lowered, item.asset.order_number, MIN_CODE_LENGTH):
            reasons.append(MatchReason.order_number)
        if _names(lowered, item.product.name, MIN_NAME_LENGTH):
            reasons.append(MatchReason.product_name)
        candidates.append(Candidate(item, reasons))
    weight = {MatchReason.serial_number: 4, MatchReason.order_number: 2}
    candidates.sort(key=lambda c: (-sum(weight.get(r, 1) for r in c.reasons), c.owned.asset.id))
    return candidates


def choose(owned: list[Owned], text: str) -> Match | None:
    """The one asset (or product) the ticket is about, when there is no doubt."""
    if len(owned) == 1:
        only = owned[0]
        return Match(only.product.id, only.asset.id, MatchReason.only_asset)
    candidates = rank(owned, text)
    for reason in (MatchReason.serial_number, MatchReason.order_number):
        named = [c.owned for c in candidates if reason in c.reasons]
        if len(named) == 1:
            return Match(named[0].product.id, named[0].asset.id, reason)
        if named and len({o.product.id for o in named}) == 1:
            # One order of several units of one product: the product is certain, the unit not.
            return Match(named[0].product.id, None, reason)
        if named:
            return None
    by_name = [c.owned for c in candidates if MatchReason.product_name in c.reasons]
    products = {o.product.id for o in by_name}
    if len(products) != 1:
        return None
    return Match(
        by_name[0].product.id, by_name[0].asset.id if len(by_name) == 1 else None,
        MatchReason.product_name,
    )  # fmt: skip


async def owned_assets(session: AsyncSession, user_id: int) -> list[Owned]:
    rows = await session.execute(assets_with_products(user_id).order_by(Asset.id).limit(MAX_ASSETS))
    return [Owned(r.Asset, r.Product) for r in rows.all()]


async def suggestions(session: AsyncSession, user_id: int, text: str) -> list[SuggestedProduct]:
    candidates = rank(await owned_assets(session, user_id), text)[:MAX_SUGGESTIONS]
    return [
        SuggestedProduct(
            product=ProductRef(
                id=c.owned.product.id, name=c.owned.product.name, sku=c.owned.product.sku
            ),
            asset=to_read(c.owned.asset, c.owned.product),
            reasons=c.reasons if len(candidates) > 1 else [MatchReason.only_asset, *c.reasons],
        )
        for c in candidates
    ]

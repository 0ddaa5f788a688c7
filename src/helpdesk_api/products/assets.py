"""Customers' assets: created and edited by agents, imported by upsert from a shop or ERP.

An asset belongs to one customer for good: an import that names (by ``external_id``) or
duplicates (by product and serial number) another customer's asset is refused, and nothing
of it is written. Never commits: the request path does.
"""

from typing import Any, cast

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput, NotFound
from helpdesk_api.core.event_types import EventType
from helpdesk_api.core.events import record_event
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.models import Asset, Product, Role, Ticket, User
from helpdesk_api.products.catalogue import check_product
from helpdesk_api.products.schemas import (
    AssetCreate,
    AssetPage,
    AssetRead,
    AssetUpdate,
    AssetUpsert,
    ProductRef,
)

ASSETS = AdminResource("asset", "/v1/assets", Asset, "Asset")
_EDITABLE = ("product_id", "serial_number", "order_number", "purchase_date", "warranty_end",
             "external_id")  # fmt: skip


def to_read(asset: Asset, product: Product) -> AssetRead:
    return AssetRead(
        id=asset.id,
        user_id=asset.user_id,
        product_id=asset.product_id,
        product=ProductRef(id=product.id, name=product.name, sku=product.sku),
        serial_number=asset.serial_number,
        order_number=asset.order_number,
        purchase_date=asset.purchase_date,
        warranty_end=asset.warranty_end,
        external_id=asset.external_id,
        created_at=asset.created_at,
        updated_at=asset.updated_at,
    )


def location(asset: Asset) -> str:
    return f"/v1/users/{asset.user_id}/assets/{asset.id}"


async def get_customer(session: AsyncSession, user_id: int) -> User:
    """Assets are customers': a staff user has none (404, as for an unknown user)."""
    user = await session.get(User, user_id)
    if user is None or user.role != Role.customer:
        raise NotFound(f"User {user_id} is not a customer: only customers own assets.")
    return user


async def get_asset(
    session: AsyncSession, user_id: int, asset_id: int, *, for_update: bool = False
) -> Asset:
    asset = await ASSETS.get(session, asset_id, for_update=for_update)
    if asset.user_id != user_id:
        raise NotFound(f"Asset {asset_id} does not exist.")
    return asset


async def read_asset(session: AsyncSession, asset: Asset) -> AssetRead:
    product = await session.get(Product, asset.product_id)
    assert product is not None  # a foreign key
    return to_read(asset, product)


def assets_with_products(user_id: int) -> Select[Asset, Product]:
    return (
        select(Asset, Product)
        .join(Product, Product.id == Asset.product_id)
        .where(Asset.user_id == user_id)
    )


async def list_assets(
    session: AsyncSession, user_id: int, *, product_id: int | None, limit: int, cursor: str | None
) -> AssetPage:
    await get_customer(session, user_id)
    # Two entities per row; paginate takes any statement.
    statement = cast("Select[Any]", assets_with_products(user_id))
    if product_id is not None:
        statement = statement.where(Asset.product_id == product_id)
    rows, next_cursor = await paginate(
        session,
        statement,
        keys=[SortKey(Asset.id, lambda r: r.Asset.id)],
        limit=limit,
        cursor=cursor,
        ordering="assets:id",
        scalars=False,
    )
    return AssetPage(data=[to_read(r.Asset, r.Product) for r in rows], next_cursor=next_cursor)


async def _check_unique(session: AsyncSession, asset: Asset, values: dict[str, Any]) -> None:
    """Refuse what would take another asset's identity: its external id, or its product's
    serial number (most likely another customer's device)."""
    external_id = values.get("external_id")
    if external_id is not None:
        owner = await session.scalar(select(Asset).where(Asset.external_id == external_id))
        if owner is not None and owner.id != asset.id:
            raise Conflict(
                f"external_id {external_id!r} already names asset {owner.id} of user "
                f"{owner.user_id}; an asset never moves to another customer."
            )
    serial, product_id = values.get("serial_number"), values.get("product_id")
    if serial is not None and product_id is not None:
        owner = await session.scalar(
            select(Asset).where(Asset.product_id == product_id, Asset.serial_number == serial)
        )
        if owner is not None and owner.id != asset.id:
            raise Conflict(
                f"Serial number {serial!r} of product {product_id} is already asset "
                f"{owner.id} of user {owner.user_id}."
            )


def _check_dates(values: dict[str, Any]) -> None:
    start, end = values.get("purchase_date"), values.get("warranty_end")
    if start is not None and end is not None and end < start:
        raise InvalidInput("warranty_end is before purchase_date.", loc=("body", "warranty_end"))


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("Another request took this external_id or serial number just now.") from exc


async def create_asset(
    session: AsyncSession, actor: Principal, user_id: int, data: AssetCreate | AssetUpsert
) -> tuple[Asset, AssetRead]:
    await get_customer(session, user_id)
    product = await check_product(session, data.product_id, loc=("body", "product_id"))
    values = data.model_dump(include=set(_EDITABLE))
    asset = Asset(user_id=user_id, **values)
    await _check_unique(session, asset, values)
    session.add(asset)
    await _flush(session)
    await session.refresh(asset)
    read = to_read(asset, product)
    await ASSETS.record_created(session, actor_id=actor.user_id, read=read)
    return asset, read


async def update_asset(
    session: AsyncSession, actor: Principal, asset: Asset, values: dict[str, Any]
) -> tuple[Asset, AssetRead]:
    """Set ``values`` (already validated by the schema) on a locked asset."""
    if "product_id" in values:
        await check_product(session, values["product_id"], loc=("body", "product_id"))
    changes = field_changes({name: getattr(asset, name) for name in values}, values)
    merged = {name: getattr(asset, name) for name in _EDITABLE} | values
    _check_dates(merged)
    if changes:
        await _check_unique(session, asset, merged)
        for change in changes:
            setattr(asset, change["field"], change["to"])
        await _flush(session)
        await session.refresh(asset)
        await ASSETS.record_updated(
            session,
            actor_id=actor.user_id,
            resource_id=asset.id,
            changes=[_plain(c) for c in changes],
            user_id=asset.user_id,
        )
    return asset, await read_asset(session, asset)


def _plain(change: dict[str, Any]) -> dict[str, Any]:
    # Dates in the event log as ISO strings, as the API writes them.
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in change.items()}


async def patch_asset(
    session: AsyncSession, actor: Principal, asset: Asset, data: AssetUpdate
) -> tuple[Asset, AssetRead]:
    return await update_asset(session, actor, asset, data.model_dump(exclude_unset=True))


async def upsert_asset(
    session: AsyncSession, actor: Principal, user_id: int, data: AssetUpsert
) -> tuple[Asset, AssetRead, bool]:
    """(the asset, whether it was created)."""
    await get_customer(session, user_id)
    existing = await session.scalar(
        select(Asset).where(Asset.external_id == data.external_id).with_for_update()
    )
    if existing is None:
        return *await create_asset(session, actor, user_id, data), True
    if existing.user_id != user_id:
        raise Conflict(
            f"external_id {data.external_id!r} names asset {existing.id} of user "
            f"{existing.user_id}; an asset never moves to another customer."
        )
    values = data.model_dump(include=set(_EDITABLE))
    return *await update_asset(session, actor, existing, values), False


async def delete_asset(session: AsyncSession, actor: Principal, asset: Asset) -> None:
    """Refused while a ticket names the asset: its tickets would lose it without an audit."""
    ticket_id = await session.scalar(select(Ticket.id).where(Ticket.asset_id == asset.id).limit(1))
    if ticket_id is not None:
        raise Conflict(
            f"Ticket {ticket_id} names asset {asset.id}: set the ticket's asset_id to another "
            "asset (or null) first."
        )
    read = await read_asset(session, asset)
    await session.delete(asset)
    await session.flush()
    await record_event(
        session,
        EventType.asset_deleted,
        actor_id=actor.user_id,
        data={"asset": read.model_dump(mode="json")},
    )

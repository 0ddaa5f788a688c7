"""The product catalogue: admins write it, staff read it. Never commits: the request path does."""

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk_api.core.auth import Principal
from helpdesk_api.core.errors import Conflict, InvalidInput
from helpdesk_api.core.pagination import SortKey, paginate
from helpdesk_api.core.resource import AdminResource, field_changes
from helpdesk_api.models import Product
from helpdesk_api.products.schemas import ProductCreate, ProductPage, ProductRead, ProductUpdate

PRODUCTS = AdminResource("product", "/v1/products", Product, "Product")


def to_read(product: Product) -> ProductRead:
    return ProductRead.model_validate(product, from_attributes=True)


async def list_products(
    session: AsyncSession,
    *,
    category: str | None,
    is_active: bool | None,
    sku: str | None,
    limit: int,
    cursor: str | None,
) -> ProductPage:
    statement: Select[Any] = select(Product)
    if category is not None:
        statement = statement.where(Product.category == category)
    if is_active is not None:
        statement = statement.where(Product.is_active.is_(is_active))
    if sku is not None:
        statement = statement.where(Product.sku == sku)
    rows, next_cursor = await paginate(
        session,
        statement,
        keys=[SortKey(Product.id, lambda p: p.id)],
        limit=limit,
        cursor=cursor,
        ordering="products:id",
    )
    return ProductPage(data=[to_read(p) for p in rows], next_cursor=next_cursor)


async def check_product(session: AsyncSession, product_id: int, *, loc: tuple[str, ...]) -> Product:
    """The product a write names, or a 422 at ``loc``: inactive products still count (a
    customer keeps owning a discontinued product)."""
    product = await session.get(Product, product_id)
    if product is None:
        raise InvalidInput(f"Product {product_id} does not exist.", loc=loc)
    return product


async def _ensure_sku_free(session: AsyncSession, sku: str, exclude_id: int | None = None) -> None:
    owner = await session.scalar(select(Product.id).where(Product.sku == sku))
    if owner is not None and owner != exclude_id:
        raise Conflict(f"SKU {sku!r} already names product {owner}.")


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("Another product took this SKU just now.") from exc


async def create_product(session: AsyncSession, actor: Principal, data: ProductCreate) -> Product:
    await _ensure_sku_free(session, data.sku)
    product = Product(**data.model_dump())
    session.add(product)
    await _flush(session)
    await session.refresh(product)
    await PRODUCTS.record_created(session, actor_id=actor.user_id, read=to_read(product))
    return product


async def update_product(
    session: AsyncSession, actor: Principal, product: Product, data: ProductUpdate
) -> Product:
    fields = data.model_dump(exclude_unset=True)
    changes = field_changes({name: getattr(product, name) for name in fields}, fields)
    if not changes:
        return product
    if "sku" in fields:
        await _ensure_sku_free(session, fields["sku"], product.id)
    for change in changes:
        setattr(product, change["field"], change["to"])
    await _flush(session)
    await session.refresh(product)
    await PRODUCTS.record_updated(
        session, actor_id=actor.user_id, resource_id=product.id, changes=changes
    )
    return product

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from helpdesk_api.core.auth import Admin, Agent, Staff
from helpdesk_api.core.db import DB, TransactionalRoute
from helpdesk_api.core.etag import IfMatch
from helpdesk_api.core.idempotency import Idempotent
from helpdesk_api.core.pagination import Cursor, Limit
from helpdesk_api.core.params import ResourceId
from helpdesk_api.products import assets, catalogue
from helpdesk_api.products.schemas import (
    AssetCreate,
    AssetPage,
    AssetRead,
    AssetUpdate,
    AssetUpsert,
    ProductCreate,
    ProductPage,
    ProductRead,
    ProductUpdate,
)

router = APIRouter(prefix="/v1", tags=["products"], route_class=TransactionalRoute)
PRODUCTS, ASSETS = catalogue.PRODUCTS, assets.ASSETS
Filter = Annotated[str | None, Query(min_length=1, max_length=100)]


@router.get("/products")
async def list_products(
    session: DB,
    principal: Staff,
    category: Filter = None,
    is_active: bool | None = None,
    sku: Filter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ProductPage:
    """The catalogue, by id. Staff only."""
    return await catalogue.list_products(
        session, category=category, is_active=is_active, sku=sku, limit=limit, cursor=cursor
    )


@router.post("/products", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent])
async def create_product(
    data: ProductCreate, session: DB, principal: Admin, response: Response
) -> ProductRead:
    """`409` when the SKU names another product."""
    product = await catalogue.create_product(session, principal, data)
    PRODUCTS.set_created(response, product)
    return catalogue.to_read(product)


@router.get("/products/{product_id}")
async def get_product(
    product_id: ResourceId, session: DB, principal: Staff, response: Response
) -> ProductRead:
    product = await PRODUCTS.get(session, product_id)
    PRODUCTS.set_etag(response, product)
    return catalogue.to_read(product)


@router.patch("/products/{product_id}")
async def update_product(
    product_id: ResourceId,
    data: ProductUpdate,
    session: DB,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> ProductRead:
    """Products are never deleted (assets and tickets name them): set `is_active: false`."""
    product = await PRODUCTS.get_for_write(session, product_id, if_match)
    updated = await catalogue.update_product(session, principal, product, data)
    PRODUCTS.set_etag(response, updated)
    return catalogue.to_read(updated)


@router.get("/users/{user_id}/assets")
async def list_assets(
    user_id: ResourceId,
    session: DB,
    principal: Staff,
    product_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AssetPage:
    """The products a customer owns, by id (staff only; `404` for a staff user)."""
    return await assets.list_assets(
        session, user_id, product_id=product_id, limit=limit, cursor=cursor
    )


@router.post(
    "/users/{user_id}/assets", status_code=status.HTTP_201_CREATED, dependencies=[Idempotent]
)
async def create_asset(
    user_id: ResourceId, data: AssetCreate, session: DB, principal: Agent, response: Response
) -> AssetRead:
    """`422` for an unknown product; `409` when the external id or the product's serial
    number is another asset's."""
    asset, read = await assets.create_asset(session, principal, user_id, data)
    response.headers["Location"] = assets.location(asset)
    ASSETS.set_etag(response, asset)
    return read


@router.put(
    "/users/{user_id}/assets/upsert",
    responses={201: {"model": AssetRead, "description": "Created"}},
)
async def upsert_asset(
    user_id: ResourceId, data: AssetUpsert, session: DB, principal: Agent, response: Response
) -> AssetRead:
    """Import one asset from a shop or ERP by its `external_id`: created (`201`) or
    overwritten (`200`; a field left out becomes null). `409` when that external id is
    another customer's asset (assets never move) or the serial number is taken; `422` for
    an unknown product. Nothing is written when refused."""
    asset, read, created = await assets.upsert_asset(session, principal, user_id, data)
    if created:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = assets.location(asset)
    ASSETS.set_etag(response, asset)
    return read


# `:int` keeps `/assets/upsert` from reading as an asset id: other methods on it are then 405.
@router.get("/users/{user_id}/assets/{asset_id:int}")
async def get_asset(
    user_id: ResourceId, asset_id: ResourceId, session: DB, principal: Staff, response: Response
) -> AssetRead:
    asset = await assets.get_asset(session, user_id, asset_id)
    ASSETS.set_etag(response, asset)
    return await assets.read_asset(session, asset)


@router.patch("/users/{user_id}/assets/{asset_id:int}")
async def update_asset(
    user_id: ResourceId,
    asset_id: ResourceId,
    data: AssetUpdate,
    session: DB,
    principal: Agent,
    response: Response,
    if_match: IfMatch = None,
) -> AssetRead:
    asset = await assets.get_asset(session, user_id, asset_id, for_update=True)
    ASSETS.check_if_match(if_match, asset)
    _, read = await assets.patch_asset(session, principal, asset, data)
    ASSETS.set_etag(response, asset)
    return read


@router.delete("/users/{user_id}/assets/{asset_id:int}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_asset(
    user_id: ResourceId,
    asset_id: ResourceId,
    session: DB,
    principal: Agent,
    if_match: IfMatch = None,
) -> None:
    """`409` while a ticket names the asset."""
    asset = await assets.get_asset(session, user_id, asset_id, for_update=True)
    ASSETS.check_if_match(if_match, asset)
    await assets.delete_asset(session, principal, asset)

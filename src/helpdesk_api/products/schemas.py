from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints, model_validator

from helpdesk_api.core.pagination import Page
from helpdesk_api.core.schemas import StrictModel, omittable
from helpdesk_api.core.text import OneLine

Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]
Sku = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), OneLine
]
Category = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), OneLine
]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), OneLine
]
ExternalId = Annotated[str, Field(min_length=1, max_length=255), OneLine]

SKU = "Unique across the catalogue (compared exactly, case included)."
SERIAL = "Unique per product: one device is one customer's."
EXTERNAL_ID = "The shop's or ERP's id for the asset, unique: what `…/assets/upsert` matches on."


class ProductCreate(StrictModel):
    name: Name
    sku: Sku = Field(description=SKU)
    category: Category | None = None
    is_active: StrictBool = True


class ProductUpdate(StrictModel):
    """Only the fields sent change."""

    name: Name = omittable()
    sku: Sku = omittable()
    category: Category | None = None
    is_active: StrictBool = omittable()


class ProductRead(BaseModel):
    id: int
    name: str
    sku: str = Field(description=SKU)
    category: str | None
    is_active: bool = Field(description="Inactive products stay on assets and tickets.")
    created_at: datetime
    updated_at: datetime


class ProductPage(Page[ProductRead]):
    pass


class ProductRef(BaseModel):
    id: int
    name: str
    sku: str


class _AssetFields(StrictModel):
    serial_number: Code | None = Field(default=None, description=SERIAL)
    order_number: Code | None = None
    purchase_date: date | None = None
    warranty_end: date | None = None

    @model_validator(mode="after")
    def _warranty_after_purchase(self) -> "_AssetFields":
        if self.purchase_date and self.warranty_end and self.warranty_end < self.purchase_date:
            raise ValueError("warranty_end is before purchase_date")
        return self


class AssetCreate(_AssetFields):
    product_id: Id
    external_id: ExternalId | None = Field(default=None, description=EXTERNAL_ID)


class AssetUpsert(_AssetFields):
    """The whole asset as the shop or ERP knows it: an existing one is overwritten (a field
    left out becomes null), a new one is created."""

    external_id: ExternalId = Field(description=EXTERNAL_ID)
    product_id: Id


class AssetUpdate(StrictModel):
    """Only the fields sent change. The owner never changes."""

    product_id: Id = omittable()
    serial_number: Code | None = Field(default=None, description=SERIAL)
    order_number: Code | None = None
    purchase_date: date | None = None
    warranty_end: date | None = None
    external_id: ExternalId | None = Field(default=None, description=EXTERNAL_ID)


class AssetRead(BaseModel):
    id: int
    user_id: int = Field(description="The customer who owns it.")
    product_id: int
    product: ProductRef
    serial_number: str | None
    order_number: str | None
    purchase_date: date | None
    warranty_end: date | None
    external_id: str | None
    created_at: datetime
    updated_at: datetime


class AssetPage(Page[AssetRead]):
    pass


class MatchReason(StrEnum):
    only_asset = "only_asset"  # the requester owns exactly one asset
    serial_number = "serial_number"  # the ticket's text names its serial number
    order_number = "order_number"  # … its order number
    product_name = "product_name"  # … its product's name


class SuggestedProduct(BaseModel):
    product: ProductRef
    asset: AssetRead | None = Field(description="The requester's asset, when one is meant.")
    reasons: list[MatchReason] = Field(
        description="Why it is suggested; empty: the requester owns it, the text does not name it."
    )


class SuggestedProductList(BaseModel):
    data: list[SuggestedProduct]

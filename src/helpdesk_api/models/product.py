"""The product catalogue and the assets customers own (a product they bought: its serial
number, order, warranty). Tickets point at both (``tickets.product_id``, ``asset_id``)."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy import true as sql_true
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk_api.models.base import Base, IdMixin


class Product(IdMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        # The list's filter by category, in the list's order (keyset on id).
        Index("ix_products_category_id", "category", "id"),
    )

    name: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(100), unique=True)
    category: Mapped[str | None] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sql_true())
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class Asset(IdMixin, Base):
    """One product one customer owns. It never moves to another customer: an import naming
    an asset (by ``external_id``) under someone else is refused, not a transfer."""

    __tablename__ = "assets"
    __table_args__ = (
        # One serial number per product: the same device cannot be two customers' assets.
        UniqueConstraint("product_id", "serial_number", name="uq_assets_product_id_serial_number"),
        CheckConstraint(
            "warranty_end IS NULL OR purchase_date IS NULL OR warranty_end >= purchase_date",
            name="warranty_after_purchase",
        ),
        # A customer's assets in list order; the intake's auto-match reads the same range.
        Index("ix_assets_user_id_id", "user_id", "id"),
        Index("ix_assets_product_id", "product_id"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    serial_number: Mapped[str | None] = mapped_column(String(100))
    order_number: Mapped[str | None] = mapped_column(String(100))
    purchase_date: Mapped[date | None] = mapped_column(Date)
    warranty_end: Mapped[date | None] = mapped_column(Date)
    # The shop's or ERP's id: what an import upserts by.
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

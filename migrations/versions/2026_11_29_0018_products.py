"""Products and the assets customers own; tickets name them.

- ``products``: the catalogue (name, unique SKU, category, active), an index per list filter.
- ``assets``: one product one customer owns (serial number unique per product, order number,
  purchase date, warranty end, an importer's unique ``external_id``), listed per customer.
- ``tickets.product_id`` / ``tickets.asset_id``: what a ticket is about; the product filter
  has a partial (product_id, updated_at, id) index, as every ticket list filter has.
- ``via = 'auto_match'`` (intake matched the requester's asset) needs no constraint change:
  ``via`` columns are plain ``varchar(20)`` without a CHECK constraint.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", _TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", _TS, server_default=sa.func.now(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    op.create_index("ix_products_category_id", "products", ["category", "id"])
    op.create_table(
        "assets",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("serial_number", sa.String(length=100), nullable=True),
        sa.Column("order_number", sa.String(length=100), nullable=True),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", _TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", _TS, server_default=sa.func.now(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "warranty_end IS NULL OR purchase_date IS NULL OR warranty_end >= purchase_date",
            name=op.f("ck_assets_warranty_after_purchase"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assets_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_assets_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint("external_id", name=op.f("uq_assets_external_id")),
        sa.UniqueConstraint(
            "product_id", "serial_number", name="uq_assets_product_id_serial_number"
        ),
    )
    op.create_index("ix_assets_user_id_id", "assets", ["user_id", "id"])
    op.create_index("ix_assets_product_id", "assets", ["product_id"])
    op.add_column("tickets", sa.Column("product_id", sa.BigInteger(), nullable=True))
    op.add_column("tickets", sa.Column("asset_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_tickets_product_id_products"), "tickets", "products", ["product_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_tickets_asset_id_assets"),
        "tickets",
        "assets",
        ["asset_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_tickets_product_id_updated_at",
        "tickets",
        ["product_id", "updated_at", "id"],
        postgresql_where=sa.text("product_id IS NOT NULL"),
    )
    op.create_index(
        "ix_tickets_asset_id",
        "tickets",
        ["asset_id"],
        postgresql_where=sa.text("asset_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_asset_id", table_name="tickets")
    op.drop_index("ix_tickets_product_id_updated_at", table_name="tickets")
    op.drop_constraint(op.f("fk_tickets_asset_id_assets"), "tickets", type_="foreignkey")
    op.drop_constraint(op.f("fk_tickets_product_id_products"), "tickets", type_="foreignkey")
    op.drop_column("tickets", "asset_id")
    op.drop_column("tickets", "product_id")
    op.drop_table("assets")
    op.drop_table("products")

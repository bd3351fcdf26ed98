"""The shopper's cart (购物车): one line per shopper and SKU

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cart_items",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("sku_id", BigId, nullable=False),
        sa.Column("product_id", BigId, nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("price_fen_added", BigId, nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("sku_name", sa.String(length=64), nullable=False),
        sa.Column("image", sa.String(length=500), nullable=True),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("qty >= 1", name=op.f("ck_cart_items_qty_positive")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_cart_items_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_items")),
        sa.UniqueConstraint("customer_id", "sku_id", name="uq_cart_items_customer_sku"),
    )


def downgrade() -> None:
    op.drop_table("cart_items")

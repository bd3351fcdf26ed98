"""积分商城 (points mall): items, per-shopper counts, redemptions

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "points_mall_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=True),
        sa.Column("sku_id", sa.BigInteger(), nullable=True),
        sa.Column("coupon_template_id", sa.BigInteger(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("cash_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("units_left", sa.Integer(), nullable=False),
        sa.Column("redeemed", sa.Integer(), nullable=False),
        sa.Column("per_user_limit", sa.Integer(), nullable=False),
        sa.Column("starts_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("ends_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("points >= 1", name=op.f("ck_points_mall_items_points_positive")),
        sa.CheckConstraint("units_left >= 0", name=op.f("ck_points_mall_items_units_left_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_mall_items")),
    )
    with op.batch_alter_table("points_mall_items", schema=None) as batch_op:
        batch_op.create_index("ix_points_mall_items_live", ["deleted", "active", "sort_order"], unique=False)

    op.create_table(
        "points_mall_quotas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_points_mall_quotas_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["points_mall_items.id"], name=op.f("fk_points_mall_quotas_item_id_points_mall_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_mall_quotas")),
        sa.UniqueConstraint("item_id", "customer_id", name="uq_points_mall_quotas_item_customer"),
    )
    op.create_table(
        "points_mall_redemptions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("cash_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("coupon_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_points_mall_redemptions_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["points_mall_items.id"], name=op.f("fk_points_mall_redemptions_item_id_points_mall_items")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_points_mall_redemptions_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_mall_redemptions")),
        sa.UniqueConstraint("order_id", name=op.f("uq_points_mall_redemptions_order_id")),
    )
    with op.batch_alter_table("points_mall_redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_points_mall_redemptions_customer", ["customer_id", "id"], unique=False)
        batch_op.create_index("ix_points_mall_redemptions_item", ["item_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("points_mall_redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_points_mall_redemptions_item")
        batch_op.drop_index("ix_points_mall_redemptions_customer")

    op.drop_table("points_mall_redemptions")
    op.drop_table("points_mall_quotas")
    with op.batch_alter_table("points_mall_items", schema=None) as batch_op:
        batch_op.drop_index("ix_points_mall_items_live")

    op.drop_table("points_mall_items")

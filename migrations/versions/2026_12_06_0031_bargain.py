"""助力砍价 (bargaining): activities with their own stock, bargains, helps and per-shopper counters

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bargain_help_days",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("helps", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_bargain_help_days_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bargain_help_days")),
        sa.UniqueConstraint("customer_id", "day", name=op.f("uq_bargain_help_days_customer_id_day")),
    )
    op.create_table(
        "bargain_activities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("start_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("target_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("helpers_needed", sa.Integer(), nullable=False),
        sa.Column("min_cut_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("max_cut_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("buy_minutes", sa.Integer(), nullable=False),
        sa.Column("pay_minutes", sa.Integer(), nullable=False),
        sa.Column("buy_early", sa.Boolean(), nullable=False),
        sa.Column("new_user_only", sa.Boolean(), nullable=False),
        sa.Column("new_user_boost_bp", sa.Integer(), nullable=False),
        sa.Column("max_starts_per_user", sa.Integer(), nullable=False),
        sa.Column("daily_help_limit", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("stock_left", sa.Integer(), nullable=False),
        sa.Column("stock_closed", sa.Boolean(), nullable=False),
        sa.Column("starts_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("helpers_needed >= 1", name=op.f("ck_bargain_activities_helpers_positive")),
        sa.CheckConstraint(
            "stock_left >= 0 AND stock_left <= stock", name=op.f("ck_bargain_activities_left_within_stock")
        ),
        sa.CheckConstraint("target_fen < start_fen", name=op.f("ck_bargain_activities_target_below_start")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_bargain_activities_product_id_products")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_bargain_activities_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bargain_activities")),
    )
    with op.batch_alter_table("bargain_activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bargain_activities_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bargain_activities_sku_id"), ["sku_id"], unique=False)

    op.create_table(
        "bargain_quotas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("started", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["bargain_activities.id"], name=op.f("fk_bargain_quotas_activity_id_bargain_activities")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_bargain_quotas_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bargain_quotas")),
        sa.UniqueConstraint("activity_id", "customer_id", name=op.f("uq_bargain_quotas_activity_id_customer_id")),
    )
    op.create_table(
        "bargains",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("start_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("target_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("price_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("helpers_needed", sa.Integer(), nullable=False),
        sa.Column("helps", sa.Integer(), nullable=False),
        sa.Column("new_helpers", sa.Integer(), nullable=False),
        sa.Column("min_cut_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("max_cut_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("boost_bp", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("expires_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("orders_placed", sa.Integer(), nullable=False),
        sa.Column("starter_ip", sa.String(length=45), nullable=True),
        sa.Column("starter_device", sa.String(length=128), nullable=True),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("reached_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("bought_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("helps >= 0 AND helps <= helpers_needed", name=op.f("ck_bargains_helps_within_needed")),
        sa.CheckConstraint("price_fen >= target_fen", name=op.f("ck_bargains_price_not_below_target")),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["bargain_activities.id"], name=op.f("fk_bargains_activity_id_bargain_activities")
        ),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_bargains_customer_id_customers")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_bargains_order_id_orders")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_bargains_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bargains")),
        sa.UniqueConstraint("order_id", name=op.f("uq_bargains_order_id")),
    )
    with op.batch_alter_table("bargains", schema=None) as batch_op:
        batch_op.create_index("ix_bargains_activity_status", ["activity_id", "status", "id"], unique=False)
        batch_op.create_index("ix_bargains_customer", ["customer_id", "id"], unique=False)

    op.create_table(
        "bargain_helps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bargain_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("helper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("cut_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("price_after_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("is_new_user", sa.Boolean(), nullable=False),
        sa.Column("helper_since", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["bargain_id"], ["bargains.id"], name=op.f("fk_bargain_helps_bargain_id_bargains")),
        sa.ForeignKeyConstraint(["helper_id"], ["customers.id"], name=op.f("fk_bargain_helps_helper_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bargain_helps")),
        sa.UniqueConstraint("bargain_id", "helper_id", name=op.f("uq_bargain_helps_bargain_id_helper_id")),
    )
    with op.batch_alter_table("bargain_helps", schema=None) as batch_op:
        batch_op.create_index("ix_bargain_helps_helper", ["helper_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bargain_helps", schema=None) as batch_op:
        batch_op.drop_index("ix_bargain_helps_helper")

    op.drop_table("bargain_helps")
    with op.batch_alter_table("bargains", schema=None) as batch_op:
        batch_op.drop_index("ix_bargains_customer")
        batch_op.drop_index("ix_bargains_activity_status")

    op.drop_table("bargains")
    op.drop_table("bargain_quotas")
    with op.batch_alter_table("bargain_activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bargain_activities_sku_id"))
        batch_op.drop_index(batch_op.f("ix_bargain_activities_product_id"))

    op.drop_table("bargain_activities")
    op.drop_table("bargain_help_days")

"""付费会员 (vip): plans, memberships, purchases, monthly grants, SKU member prices, member-only products

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_T = fissionmall.core.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "vip_plans",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("price_fen", _ID, nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("discount_bp", sa.Integer(), nullable=False),
        sa.Column("grant_template_id", sa.BigInteger(), nullable=True),
        sa.Column("grant_count", sa.Integer(), nullable=False),
        sa.Column("cooling_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("updated_at", _T(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vip_plans")),
    )
    op.create_table(
        "vip_members",
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("plan_id", _ID, nullable=False),
        sa.Column("run_no", sa.Integer(), nullable=False),
        sa.Column("anchor_at", _T(), nullable=False),
        sa.Column("until", _T(), nullable=False),
        sa.Column("updated_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_vip_members_customer_id_customers")),
        sa.ForeignKeyConstraint(["plan_id"], ["vip_plans.id"], name=op.f("fk_vip_members_plan_id_vip_plans")),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_vip_members")),
    )
    with op.batch_alter_table("vip_members") as batch:
        batch.create_index(batch.f("ix_vip_members_until"), ["until"], unique=False)
    op.create_table(
        "vip_purchases",
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("plan_id", _ID, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("plan_name", sa.String(length=32), nullable=False),
        sa.Column("price_fen", _ID, nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("cooling_days", sa.Integer(), nullable=False),
        sa.Column("run_no", sa.Integer(), nullable=True),
        sa.Column("starts_at", _T(), nullable=True),
        sa.Column("until", _T(), nullable=True),
        sa.Column("paid_at", _T(), nullable=True),
        sa.Column("refunded_at", _T(), nullable=True),
        sa.Column("refund_fen", _ID, nullable=True),
        sa.Column("refund_reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_vip_purchases_customer_id_customers")),
        sa.ForeignKeyConstraint(["plan_id"], ["vip_plans.id"], name=op.f("fk_vip_purchases_plan_id_vip_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vip_purchases")),
        sa.UniqueConstraint("order_id", name=op.f("uq_vip_purchases_order_id")),
    )
    with op.batch_alter_table("vip_purchases") as batch:
        batch.create_index("ix_vip_purchases_customer", ["customer_id", "id"], unique=False)
        batch.create_index(batch.f("ix_vip_purchases_plan_id"), ["plan_id"], unique=False)
    op.create_table(
        "vip_grants",
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("run_no", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("due_at", _T(), nullable=False),
        sa.Column("coupon_ids", sa.JSON(), nullable=False),
        sa.Column("taken_back", sa.Integer(), nullable=False),
        sa.Column("granted_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_vip_grants_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vip_grants")),
        sa.UniqueConstraint("customer_id", "run_no", "month", name="uq_vip_grants_month"),
    )
    op.create_table(
        "vip_sku_prices",
        sa.Column("sku_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("price_fen", _ID, nullable=False),
        sa.PrimaryKeyConstraint("sku_id", name=op.f("pk_vip_sku_prices")),
    )
    with op.batch_alter_table("vip_sku_prices") as batch:
        batch.create_index(batch.f("ix_vip_sku_prices_product_id"), ["product_id"], unique=False)
    op.create_table(
        "vip_only_products",
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_vip_only_products")),
    )


def downgrade() -> None:
    op.drop_table("vip_only_products")
    with op.batch_alter_table("vip_sku_prices") as batch:
        batch.drop_index(batch.f("ix_vip_sku_prices_product_id"))
    op.drop_table("vip_sku_prices")
    op.drop_table("vip_grants")
    with op.batch_alter_table("vip_purchases") as batch:
        batch.drop_index(batch.f("ix_vip_purchases_plan_id"))
        batch.drop_index("ix_vip_purchases_customer")
    op.drop_table("vip_purchases")
    with op.batch_alter_table("vip_members") as batch:
        batch.drop_index(batch.f("ix_vip_members_until"))
    op.drop_table("vip_members")
    op.drop_table("vip_plans")

"""The dashboard's daily rollups: events and participants per day, orders per day and tool, shoppers'
first orders, the raw-event watermark and the order events applied once

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "analytics_daily",
        sa.Column("id", BIG, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tool", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("distributor_id", BIG, nullable=False),
        sa.Column("events", BIG, nullable=False),
        sa.Column("amount_fen", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_daily")),
        sa.UniqueConstraint(
            "day", "tool", "kind", "distributor_id", name=op.f("uq_analytics_daily_day_tool_kind_distributor_id")
        ),
    )
    op.create_table(
        "analytics_daily_people",
        sa.Column("id", BIG, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tool", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("person", sa.String(length=72), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_daily_people")),
        sa.UniqueConstraint("day", "tool", "kind", "person", name=op.f("uq_analytics_daily_people_day_tool_kind_person")),
    )
    op.create_table(
        "analytics_daily_orders",
        sa.Column("id", BIG, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tool", sa.String(length=24), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("orders", BIG, nullable=False),
        sa.Column("paid_fen", BIG, nullable=False),
        sa.Column("refund_fen", BIG, nullable=False),
        sa.Column("discount_fen", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_daily_orders")),
        sa.UniqueConstraint("day", "tool", "via", name=op.f("uq_analytics_daily_orders_day_tool_via")),
    )
    op.create_table(
        "analytics_customers",
        sa.Column("customer_id", BIG, autoincrement=False, nullable=False),
        sa.Column("first_order_id", BIG, nullable=False),
        sa.Column("first_paid_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("first_tool", sa.String(length=24), nullable=False),
        sa.Column("paid_orders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_analytics_customers")),
    )
    op.create_index("ix_analytics_customers_day", "analytics_customers", ["first_day"])
    op.create_table(
        "analytics_rollup_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_id", BIG, nullable=False),
        sa.Column("updated_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_analytics_rollup_state")),
    )
    op.create_table(
        "analytics_rollup_applied",
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_analytics_rollup_applied")),
    )


def downgrade() -> None:
    op.drop_table("analytics_rollup_applied")
    op.drop_table("analytics_rollup_state")
    op.drop_table("analytics_customers")
    op.drop_table("analytics_daily_orders")
    op.drop_table("analytics_daily_people")
    op.drop_table("analytics_daily")

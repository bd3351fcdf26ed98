"""The merchant's data: raw events (unique key, BRIN on time) and paid orders' attribution

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("id", BIG, nullable=False),
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("customer_id", BIG, nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("product_id", BIG, nullable=True),
        sa.Column("tool", sa.String(length=24), nullable=True),
        sa.Column("campaign", sa.String(length=48), nullable=True),
        sa.Column("distributor_id", BIG, nullable=True),
        sa.Column("variant", sa.String(length=64), nullable=True),
        sa.Column("order_id", BIG, nullable=True),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("amount_fen", BIG, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
        sa.UniqueConstraint("key", name=op.f("uq_analytics_events_key")),
    )
    op.create_index("ix_analytics_events_at_brin", "analytics_events", ["at"], postgresql_using="brin")
    op.create_index("ix_analytics_events_customer_at", "analytics_events", ["customer_id", "at"])
    op.create_index("ix_analytics_events_order", "analytics_events", ["order_id"])
    op.create_table(
        "analytics_attributions",
        sa.Column("id", BIG, nullable=False),
        sa.Column("order_id", BIG, nullable=False),
        sa.Column("model", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tool", sa.String(length=24), nullable=False),
        sa.Column("distributor_id", BIG, nullable=True),
        sa.Column("paid_fen", BIG, nullable=False),
        sa.Column("touch_event_id", BIG, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_attributions")),
        sa.UniqueConstraint("order_id", "model", name=op.f("uq_analytics_attributions_order_id_model")),
    )
    op.create_index("ix_analytics_attributions_day", "analytics_attributions", ["day", "model"])


def downgrade() -> None:
    op.drop_table("analytics_attributions")
    op.drop_table("analytics_events")

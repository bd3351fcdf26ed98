"""The merchant's data: the attribution window, the flash-sale attempts' copy watermark, anonymous events by device

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "analytics_config",
        sa.Column("id", BIG, nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("seckill_watermark", BIG, nullable=False),
        sa.Column("updated_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_config")),
    )
    op.create_index(
        "ix_analytics_events_device_at",
        "analytics_events",
        ["device_id", "at"],
        postgresql_where=sa.text("customer_id IS NULL"),
        sqlite_where=sa.text("customer_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_analytics_events_device_at", table_name="analytics_events")
    op.drop_table("analytics_config")

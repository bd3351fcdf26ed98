"""group-buy activities take their stock from the SKU

An activity's own stock used to be a number beside the SKU's stock, so both were sold. Now the units
an activity holds live in `groupbuy_pools` (one row per SKU), moved out of the SKU's stock. The old
`stock` / `stock_left` figures are dropped, not turned into pools: those units were never taken from
any SKU, so activities created before this sell straight from the SKU's own stock from now on.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "groupbuy_pools",
        sa.Column("id", BigId, nullable=False),
        sa.Column("activity_id", BigId, nullable=False),
        sa.Column("sku_id", BigId, nullable=False),
        sa.Column("pool", sa.Integer(), nullable=False),
        sa.Column("units_left", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.CheckConstraint("units_left >= 0 AND units_left <= pool", name=op.f("ck_groupbuy_pools_left_within_pool")),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["groupbuy_activities.id"], name=op.f("fk_groupbuy_pools_activity_id_groupbuy_activities")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_groupbuy_pools_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groupbuy_pools")),
        sa.UniqueConstraint("activity_id", "sku_id", name=op.f("uq_groupbuy_pools_activity_id_sku_id")),
    )
    with op.batch_alter_table("groupbuy_pools") as batch:
        batch.create_index(batch.f("ix_groupbuy_pools_sku_id"), ["sku_id"], unique=False)
    with op.batch_alter_table("groupbuy_activities") as batch:
        batch.drop_constraint(op.f("ck_groupbuy_activities_stock_left_not_negative"), type_="check")
        batch.drop_column("stock_left")
        batch.drop_column("stock")


def downgrade() -> None:
    with op.batch_alter_table("groupbuy_activities") as batch:
        batch.add_column(sa.Column("stock", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("stock_left", sa.Integer(), server_default="0", nullable=False))
        batch.create_check_constraint(op.f("ck_groupbuy_activities_stock_left_not_negative"), "stock_left >= 0")
    with op.batch_alter_table("groupbuy_pools") as batch:
        batch.drop_index(batch.f("ix_groupbuy_pools_sku_id"))
    op.drop_table("groupbuy_pools")

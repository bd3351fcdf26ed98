"""收藏 (favorites) and 足迹 (product_views): one row per shopper and product

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _table(name: str, stamp: str) -> None:
    op.create_table(
        name,
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column(stamp, fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f(f"fk_{name}_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f(f"fk_{name}_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("customer_id", "product_id", name=f"uq_{name}_customer_product"),
    )


def upgrade() -> None:
    _table("favorites", "created_at")
    _table("product_views", "viewed_at")
    with op.batch_alter_table("favorites") as batch:
        batch.create_index("ix_favorites_customer", ["customer_id", "id"], unique=False)
    with op.batch_alter_table("product_views") as batch:
        batch.create_index("ix_product_views_customer_viewed", ["customer_id", "viewed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_views") as batch:
        batch.drop_index("ix_product_views_customer_viewed")
    with op.batch_alter_table("favorites") as batch:
        batch.drop_index("ix_favorites_customer")
    op.drop_table("product_views")
    op.drop_table("favorites")

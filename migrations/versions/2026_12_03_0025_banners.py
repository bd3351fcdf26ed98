"""首页轮播图 (banners): the shop home's carousel

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "banners",
        sa.Column("id", _ID, nullable=False),
        sa.Column("image", sa.String(length=500), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=False),
        sa.Column("link_kind", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("starts_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("ends_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_banners")),
    )
    with op.batch_alter_table("banners") as batch:
        batch.create_index("ix_banners_active_sort", ["active", "sort_order"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("banners") as batch:
        batch.drop_index("ix_banners_active_sort")
    op.drop_table("banners")

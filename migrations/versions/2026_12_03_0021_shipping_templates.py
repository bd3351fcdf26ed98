"""Shipping templates (运费模板)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

import fissionmall.core.db
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shipping_templates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("default_rule", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("free", sa.JSON(), nullable=False),
        sa.Column("not_delivered", sa.JSON(), nullable=False),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", fissionmall.core.db.UTCDateTime(), nullable=False),
    )
    op.create_index(
        "uq_shipping_templates_default",
        "shipping_templates",
        ["is_default"],
        unique=True,
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    )


def downgrade() -> None:
    op.drop_index("uq_shipping_templates_default", table_name="shipping_templates")
    op.drop_table("shipping_templates")

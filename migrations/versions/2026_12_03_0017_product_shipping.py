"""Products name the shipping template (运费模板) that prices them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: NULL is "the shop's default template", so every existing product keeps being priced
    # as before until the merchant picks one.
    with op.batch_alter_table("products") as batch:
        batch.add_column(
            sa.Column("shipping_template_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("shipping_template_id")

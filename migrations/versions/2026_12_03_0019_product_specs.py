"""Products carry a spec matrix and a rich-text detail; SKUs a list price, a merchant code, a weight, a spec

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_CODE = "is_active AND code IS NOT NULL"


def upgrade() -> None:
    # Defaults on the server so existing rows read as "no specs, no detail": products work as before.
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("detail_html", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("specs", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("products") as batch:
        batch.alter_column("detail_html", server_default=None)
        batch.alter_column("specs", server_default=None)
    with op.batch_alter_table("skus") as batch:
        batch.add_column(
            sa.Column("list_price_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch.add_column(sa.Column("code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("weight_g", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("spec", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("skus") as batch:
        batch.alter_column("spec", server_default=None)
        batch.create_index(
            "uq_skus_code_active",
            ["code"],
            unique=True,
            postgresql_where=sa.text(ACTIVE_CODE),
            sqlite_where=sa.text(ACTIVE_CODE),
        )


def downgrade() -> None:
    with op.batch_alter_table("skus") as batch:
        batch.drop_index("uq_skus_code_active")
        batch.drop_column("spec")
        batch.drop_column("weight_g")
        batch.drop_column("code")
        batch.drop_column("list_price_fen")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("specs")
        batch.drop_column("detail_html")

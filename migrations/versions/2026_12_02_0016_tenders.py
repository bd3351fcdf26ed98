"""Tenders: what paid an order besides the gateway, and each refund's split over them

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: every existing and every plain order stays NULL (the gateway paid it all),
    # so adding them rewrites no row.
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("tenders", sa.JSON(), nullable=True))
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("tender_parts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("tender_parts")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("tenders")

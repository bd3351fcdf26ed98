"""one open payment per order; refused notifications counted, not all kept

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fissionmall.core.db import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status = 'pending'"


def upgrade() -> None:
    # Orders paid twice at once before this revision may have several open payments: keep the newest
    # open. Closing is safe for money: a closed payment that is paid after all is still confirmed, and
    # refunded if its order was paid by another one.
    op.execute(
        "UPDATE payments SET status = 'closed' WHERE status = 'pending' AND id NOT IN "
        "(SELECT max(id) FROM payments WHERE status = 'pending' GROUP BY order_id)"
    )
    op.create_index(
        "uq_payments_open_order",
        "payments",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_table(
        "gateway_notification_counts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("hour_start", UTCDateTime(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_notification_counts")),
        sa.UniqueConstraint(
            "gateway", "cause", "hour_start", name=op.f("uq_gateway_notification_counts_gateway_cause_hour_start")
        ),
    )


def downgrade() -> None:
    op.drop_table("gateway_notification_counts")
    op.drop_index("uq_payments_open_order", table_name="payments")

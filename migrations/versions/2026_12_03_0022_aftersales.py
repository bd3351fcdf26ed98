"""After-sales: 仅退款/退货退款 on refunds (service, reason, photos, shipping part, return shipment) and the
negotiation history (refund_entries)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = fissionmall.core.db.UTCDateTime


def upgrade() -> None:
    # Every existing refund was a 仅退款 with the shipping spread over its lines: server defaults fill them.
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("service", sa.String(16), nullable=False, server_default="refund_only"))
        batch.add_column(sa.Column("reason_code", sa.String(16), nullable=False, server_default="other"))
        batch.add_column(sa.Column("images", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("shipping_fen", _ID, nullable=False, server_default="0"))
        batch.add_column(sa.Column("return_address", sa.String(200), nullable=True))
        batch.add_column(sa.Column("return_carrier", sa.String(32), nullable=True))
        batch.add_column(sa.Column("return_tracking_no", sa.String(64), nullable=True))
        batch.add_column(sa.Column("approved_at", _TS(), nullable=True))
        batch.add_column(sa.Column("return_shipped_at", _TS(), nullable=True))
        batch.add_column(sa.Column("received_at", _TS(), nullable=True))
        batch.add_column(sa.Column("closed_at", _TS(), nullable=True))
        batch.create_index("ix_refunds_customer", ["customer_id", "id"], unique=False)
    op.create_table(
        "refund_entries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("refund_id", _ID, nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS(), nullable=False),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"], name=op.f("fk_refund_entries_refund_id_refunds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_entries")),
    )
    with op.batch_alter_table("refund_entries") as batch:
        batch.create_index("ix_refund_entries_refund", ["refund_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refund_entries") as batch:
        batch.drop_index("ix_refund_entries_refund")
    op.drop_table("refund_entries")
    with op.batch_alter_table("refunds") as batch:
        batch.drop_index("ix_refunds_customer")
        for col in (
            "closed_at",
            "received_at",
            "return_shipped_at",
            "approved_at",
            "return_tracking_no",
            "return_carrier",
            "return_address",
            "shipping_fen",
            "images",
            "reason_code",
            "service",
        ):
            batch.drop_column(col)

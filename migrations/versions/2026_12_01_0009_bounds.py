"""money columns hold what the API accepts

Every fen amount becomes BIGINT: the API takes up to MAX_FEN (10^10 fen), past what an int32 column holds.
Only PostgreSQL changes; SQLite's INTEGER is 64-bit already (the models use BIGINT on PostgreSQL and
INTEGER on SQLite, core.db.Money), so SQLite needs no table rebuild.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY: dict[str, tuple[str, ...]] = {
    "skus": ("price_fen",),
    "coupon_templates": ("amount_fen", "max_discount_fen", "threshold_fen"),
    "promotions": ("threshold", "discount_fen"),
    "promotion_uses": ("discount_fen",),
    "seckill_items": ("price_fen",),
    "groupbuy_activities": ("leader_discount_fen",),
    "groupbuy_members": ("refunded_fen",),
    "orders": ("goods_fen", "discount_fen", "shipping_fen", "payable_fen", "paid_fen", "refunded_fen"),
    "order_lines": (
        "unit_price_fen",
        "subtotal_fen",
        "discount_fen",
        "shipping_fen",
        "payable_fen",
        "refund_pending_fen",
        "refunded_fen",
    ),
    "refunds": ("amount_fen",),
    "payments": ("amount_fen",),
    "distribution_orders": ("goods_fen", "commission_fen"),
    "distribution_commissions": ("amount_fen", "base_fen"),
    "distribution_withdrawals": ("amount_fen", "fee_fen", "net_fen"),
    "distribution_settlements": ("matured_fen",),
    "distribution_statements": ("accrued_fen", "matured_fen", "reversed_fen", "available_fen"),
}


def _retype(sql_type: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in MONEY.items():
        # One statement per table: PostgreSQL rewrites the table once, not once per column.
        clauses = ", ".join(f'ALTER COLUMN "{c}" TYPE {sql_type}' for c in columns)
        op.execute(f'ALTER TABLE "{table}" {clauses}')


def upgrade() -> None:
    _retype("BIGINT")


def downgrade() -> None:
    _retype("INTEGER")  # fails on a row past int32, as it should: that money would not fit

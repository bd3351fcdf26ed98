"""distribution

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-22 00:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "distribution_config",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_config")),
    )
    op.create_table(
        "distribution_settlements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("orders_matured", sa.Integer(), nullable=False),
        sa.Column("matured_fen", sa.Integer(), nullable=False),
        sa.Column("ran_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_settlements")),
        sa.UniqueConstraint("period", name=op.f("uq_distribution_settlements_period")),
    )
    op.create_table(
        "distribution_bindings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("distributor_customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=16), nullable=False),
        sa.Column("bound_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("times_rebound", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_distribution_bindings_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["distributor_customer_id"],
            ["customers.id"],
            name=op.f("fk_distribution_bindings_distributor_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_bindings")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_distribution_bindings_customer_id")),
    )
    op.create_index(
        "ix_distribution_bindings_distributor", "distribution_bindings", ["distributor_customer_id"], unique=False
    )
    op.create_table(
        "distribution_commissions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("distributor_customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("order_line_id", sa.BigInteger(), nullable=True),
        sa.Column("withdrawal_id", sa.BigInteger(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("bucket", sa.String(length=12), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("base_fen", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=True),
        sa.Column("ref_key", sa.String(length=32), nullable=False),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["distributor_customer_id"],
            ["customers.id"],
            name=op.f("fk_distribution_commissions_distributor_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_commissions")),
        sa.UniqueConstraint(
            "order_line_id",
            "level",
            "kind",
            "ref_key",
            name=op.f("uq_distribution_commissions_order_line_id_level_kind_ref_key"),
        ),
        sa.UniqueConstraint(
            "withdrawal_id", "kind", "bucket", name=op.f("uq_distribution_commissions_withdrawal_id_kind_bucket")
        ),
    )
    op.create_index("ix_distribution_commissions_order", "distribution_commissions", ["order_id"], unique=False)
    op.create_index(
        "ix_distribution_commissions_owner",
        "distribution_commissions",
        ["distributor_customer_id", "bucket"],
        unique=False,
    )
    op.create_table(
        "distribution_statements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("settlement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("distributor_customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("accrued_fen", sa.Integer(), nullable=False),
        sa.Column("matured_fen", sa.Integer(), nullable=False),
        sa.Column("reversed_fen", sa.Integer(), nullable=False),
        sa.Column("available_fen", sa.Integer(), nullable=False),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["distributor_customer_id"],
            ["customers.id"],
            name=op.f("fk_distribution_statements_distributor_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["distribution_settlements.id"],
            name=op.f("fk_distribution_statements_settlement_id_distribution_settlements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_statements")),
        sa.UniqueConstraint(
            "distributor_customer_id", "period", name=op.f("uq_distribution_statements_distributor_customer_id_period")
        ),
    )
    op.create_index(
        op.f("ix_distribution_statements_settlement_id"), "distribution_statements", ["settlement_id"], unique=False
    )
    op.create_table(
        "distribution_visits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("distributor_customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=True),
        sa.Column("visitor_customer_id", sa.BigInteger(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["distributor_customer_id"],
            ["customers.id"],
            name=op.f("fk_distribution_visits_distributor_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_visits")),
    )
    op.create_index(
        "ix_distribution_visits_distributor", "distribution_visits", ["distributor_customer_id", "id"], unique=False
    )
    op.create_table(
        "distribution_withdrawals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("distributor_customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("fee_fen", sa.Integer(), nullable=False),
        sa.Column("net_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("transfer_id", sa.String(length=64), nullable=True),
        sa.Column("failure", sa.String(length=200), nullable=True),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("decided_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("paid_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["distributor_customer_id"],
            ["customers.id"],
            name=op.f("fk_distribution_withdrawals_distributor_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_withdrawals")),
    )
    op.create_index(
        op.f("ix_distribution_withdrawals_distributor_customer_id"),
        "distribution_withdrawals",
        ["distributor_customer_id"],
        unique=False,
    )
    op.create_index("ix_distribution_withdrawals_status", "distribution_withdrawals", ["status", "id"], unique=False)
    op.create_table(
        "distributors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("share_code", sa.String(length=16), nullable=False),
        sa.Column("withdraw_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("decided_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_distributors_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distributors")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_distributors_customer_id")),
        sa.UniqueConstraint("share_code", name=op.f("uq_distributors_share_code")),
    )
    op.create_table(
        "distribution_orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("buyer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("level1_customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("level2_customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("bind_origin", sa.String(length=16), nullable=False),
        sa.Column("goods_fen", sa.Integer(), nullable=False),
        sa.Column("commission_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("completed_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("matures_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["buyer_id"], ["customers.id"], name=op.f("fk_distribution_orders_buyer_id_customers")),
        sa.ForeignKeyConstraint(
            ["level1_customer_id"], ["customers.id"], name=op.f("fk_distribution_orders_level1_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["level2_customer_id"], ["customers.id"], name=op.f("fk_distribution_orders_level2_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_distribution_orders_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_orders")),
        sa.UniqueConstraint("order_id", name=op.f("uq_distribution_orders_order_id")),
    )
    op.create_index("ix_distribution_orders_due", "distribution_orders", ["status", "matures_at"], unique=False)
    op.create_index("ix_distribution_orders_l1", "distribution_orders", ["level1_customer_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_distribution_orders_l1", table_name="distribution_orders")
    op.drop_index("ix_distribution_orders_due", table_name="distribution_orders")
    op.drop_table("distribution_orders")
    op.drop_table("distributors")
    op.drop_index("ix_distribution_withdrawals_status", table_name="distribution_withdrawals")
    op.drop_index(op.f("ix_distribution_withdrawals_distributor_customer_id"), table_name="distribution_withdrawals")
    op.drop_table("distribution_withdrawals")
    op.drop_index("ix_distribution_visits_distributor", table_name="distribution_visits")
    op.drop_table("distribution_visits")
    op.drop_index(op.f("ix_distribution_statements_settlement_id"), table_name="distribution_statements")
    op.drop_table("distribution_statements")
    op.drop_index("ix_distribution_commissions_owner", table_name="distribution_commissions")
    op.drop_index("ix_distribution_commissions_order", table_name="distribution_commissions")
    op.drop_table("distribution_commissions")
    op.drop_index("ix_distribution_bindings_distributor", table_name="distribution_bindings")
    op.drop_table("distribution_bindings")
    op.drop_table("distribution_settlements")
    op.drop_table("distribution_config")

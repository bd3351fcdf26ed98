"""储值 (wallet): packages, balances, the ledger, top-ups, the setting

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_FEN = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = fissionmall.core.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "wallet_packages",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("pay_fen", _FEN, nullable=False),
        sa.Column("bonus_fen", _FEN, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", _AT(), nullable=False),
        sa.Column("updated_at", _AT(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_packages")),
    )
    with op.batch_alter_table("wallet_packages") as batch:
        batch.create_index("ix_wallet_packages_active_sort", ["active", "sort_order"], unique=False)
    op.create_table(
        "wallet_balances",
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("principal_fen", _FEN, nullable=False),
        sa.Column("bonus_fen", _FEN, nullable=False),
        sa.Column("updated_at", _AT(), nullable=False),
        sa.CheckConstraint("bonus_fen >= 0", name=op.f("ck_wallet_balances_bonus_not_negative")),
        sa.CheckConstraint("principal_fen >= 0", name=op.f("ck_wallet_balances_principal_not_negative")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_wallet_balances_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_wallet_balances")),
    )
    op.create_table(
        "wallet_entries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("principal_delta", _FEN, nullable=False),
        sa.Column("bonus_delta", _FEN, nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", _AT(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_wallet_entries_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_entries")),
        sa.UniqueConstraint("key", name=op.f("uq_wallet_entries_key")),
    )
    with op.batch_alter_table("wallet_entries") as batch:
        batch.create_index("ix_wallet_entries_customer", ["customer_id", "id"], unique=False)
        batch.create_index("ix_wallet_entries_ref", ["ref"], unique=False)
    op.create_table(
        "wallet_topups",
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("package_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", _ID, nullable=True),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("pay_fen", _FEN, nullable=False),
        sa.Column("bonus_fen", _FEN, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("refunded_fen", _FEN, nullable=False),
        sa.Column("bonus_taken_fen", _FEN, nullable=False),
        sa.Column("created_at", _AT(), nullable=False),
        sa.Column("credited_at", _AT(), nullable=True),
        sa.Column("refunded_at", _AT(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_wallet_topups_customer_id_customers")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_wallet_topups_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_topups")),
        sa.UniqueConstraint("order_id", name=op.f("uq_wallet_topups_order_id")),
    )
    with op.batch_alter_table("wallet_topups") as batch:
        batch.create_index("ix_wallet_topups_customer", ["customer_id", "id"], unique=False)
    op.create_table(
        "wallet_settings",
        sa.Column("id", _ID, nullable=False),
        sa.Column("bonus_first", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _AT(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_settings")),
    )


def downgrade() -> None:
    op.drop_table("wallet_settings")
    with op.batch_alter_table("wallet_topups") as batch:
        batch.drop_index("ix_wallet_topups_customer")
    op.drop_table("wallet_topups")
    with op.batch_alter_table("wallet_entries") as batch:
        batch.drop_index("ix_wallet_entries_ref")
        batch.drop_index("ix_wallet_entries_customer")
    op.drop_table("wallet_entries")
    op.drop_table("wallet_balances")
    with op.batch_alter_table("wallet_packages") as batch:
        batch.drop_index("ix_wallet_packages_active_sort")
    op.drop_table("wallet_packages")

"""消费积分 (points): the ledger (entries and the account balance they sum to)

Revision ID: 0029
Revises: 0025
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0029"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = fissionmall.core.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "points_accounts",
        sa.Column("customer_id", _ID, autoincrement=False, nullable=False),
        sa.Column("balance", _ID, nullable=False),
        sa.Column("updated_at", _AT(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_points_accounts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_points_accounts")),
    )
    op.create_table(
        "points_entries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("expires_at", _AT(), nullable=True),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _AT(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_points_entries_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
        sa.UniqueConstraint(
            "customer_id", "kind", "ref", name=op.f("uq_points_entries_customer_id_kind_ref")
        ),
    )
    with op.batch_alter_table("points_entries") as batch:
        batch.create_index("ix_points_entries_customer", ["customer_id", "id"], unique=False)
        batch.create_index("ix_points_entries_expiry", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("points_entries") as batch:
        batch.drop_index("ix_points_entries_expiry")
        batch.drop_index("ix_points_entries_customer")
    op.drop_table("points_entries")
    op.drop_table("points_accounts")

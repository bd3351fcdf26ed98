"""消费积分 (points): the ledger (entries and the account balance they sum to), rules, sign-ins, order lines' points

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0029"
down_revision: str | None = "0028"
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
    op.create_table(
        "points_rules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", _AT(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_rules")),
    )
    op.create_table(
        "points_signins",
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _AT(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_points_signins_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_signins")),
        sa.UniqueConstraint("customer_id", "day", name=op.f("uq_points_signins_customer_id_day")),
    )
    op.create_table(
        "points_order_lines",
        sa.Column("id", _ID, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("settled_qty", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_order_lines")),
        sa.UniqueConstraint("line_id", "kind", name=op.f("uq_points_order_lines_line_id_kind")),
    )
    with op.batch_alter_table("points_order_lines") as batch:
        batch.create_index("ix_points_order_lines_order", ["order_id"], unique=False)
    with op.batch_alter_table("points_entries") as batch:
        batch.create_index("ix_points_entries_customer", ["customer_id", "id"], unique=False)
        batch.create_index("ix_points_entries_expiry", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("points_entries") as batch:
        batch.drop_index("ix_points_entries_expiry")
        batch.drop_index("ix_points_entries_customer")
    with op.batch_alter_table("points_order_lines") as batch:
        batch.drop_index("ix_points_order_lines_order")
    op.drop_table("points_order_lines")
    op.drop_table("points_signins")
    op.drop_table("points_rules")
    op.drop_table("points_entries")
    op.drop_table("points_accounts")

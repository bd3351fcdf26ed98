"""会员等级 (membership): levels, profiles, the growth ledger, settings

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_MONEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = fissionmall.core.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "member_levels",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("threshold_fen", _MONEY, nullable=False),
        sa.Column("discount_bp", sa.Integer(), nullable=False),
        sa.Column("points_multiplier_bp", sa.Integer(), nullable=False),
        sa.Column("birthday_template_id", sa.BigInteger(), nullable=True),
        sa.Column("free_shipping", sa.Boolean(), nullable=False),
        sa.Column("priority_service", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.Column("updated_at", _TIME(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_levels")),
        sa.UniqueConstraint("name", name=op.f("uq_member_levels_name")),
        sa.UniqueConstraint("rank", name=op.f("uq_member_levels_rank")),
        sa.UniqueConstraint("threshold_fen", name=op.f("uq_member_levels_threshold_fen")),
    )
    op.create_table(
        "member_profiles",
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("level_id", _ID, nullable=True),
        sa.Column("total_fen", _MONEY, nullable=False),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("level_changed_at", _TIME(), nullable=True),
        sa.Column("updated_at", _TIME(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_member_profiles_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["level_id"],
            ["member_levels.id"],
            name=op.f("fk_member_profiles_level_id_member_levels"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_member_profiles")),
    )
    with op.batch_alter_table("member_profiles") as batch:
        batch.create_index(batch.f("ix_member_profiles_level_id"), ["level_id"], unique=False)
    op.create_table(
        "member_growth",
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=True),
        sa.Column("refund_id", sa.BigInteger(), nullable=True),
        sa.Column("amount_fen", _MONEY, nullable=False),
        sa.Column("earned_at", _TIME(), nullable=False),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_member_growth_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_growth")),
        sa.UniqueConstraint("key", name=op.f("uq_member_growth_key")),
    )
    with op.batch_alter_table("member_growth") as batch:
        batch.create_index("ix_member_growth_customer_earned", ["customer_id", "earned_at"], unique=False)
        batch.create_index(batch.f("ix_member_growth_order_id"), ["order_id"], unique=False)
    op.create_table(
        "membership_config",
        sa.Column("id", _ID, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TIME(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_config")),
    )


def downgrade() -> None:
    op.drop_table("membership_config")
    with op.batch_alter_table("member_growth") as batch:
        batch.drop_index("ix_member_growth_order_id")
        batch.drop_index("ix_member_growth_customer_earned")
    op.drop_table("member_growth")
    with op.batch_alter_table("member_profiles") as batch:
        batch.drop_index("ix_member_profiles_level_id")
    op.drop_table("member_profiles")
    op.drop_table("member_levels")

"""A/B tests: experiments, their weighted arms, and one exposure per shopper

Revision ID: 0034
Revises: 0032
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", BIG, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("coverage_bp", sa.Integer(), nullable=False),
        sa.Column("min_sample", sa.Integer(), nullable=False),
        sa.Column("max_cost_bp", sa.Integer(), nullable=False),
        sa.Column("starts_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("ended_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("winner_arm_id", sa.Integer(), nullable=True),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("coverage_bp >= 0 AND coverage_bp <= 10000", name=op.f("ck_experiments_coverage")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
    )
    op.create_index("ix_experiments_live", "experiments", ["status", "ends_at"])
    op.create_table(
        "experiment_arms",
        sa.Column("id", BIG, nullable=False),
        sa.Column("experiment_id", BIG, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("control", sa.Boolean(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_experiment_arms_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_arms")),
    )
    op.create_index(op.f("ix_experiment_arms_experiment_id"), "experiment_arms", ["experiment_id"])
    op.create_table(
        "experiment_exposures",
        sa.Column("experiment_id", BIG, nullable=False),
        sa.Column("customer_id", BIG, nullable=False),
        sa.Column("arm_id", sa.Integer(), nullable=False),
        sa.Column("at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "customer_id", name=op.f("pk_experiment_exposures")),
    )


def downgrade() -> None:
    op.drop_table("experiment_exposures")
    op.drop_table("experiment_arms")
    op.drop_table("experiments")

"""The risk engine: the rulebook, decisions, credit, block/allow lists and the review queue

Revision ID: 0035
Revises: 0032
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0035"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = fissionmall.core.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "risk_rulebook",
        sa.Column("id", BIG, nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("condition", sa.String(length=1000), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("penalty", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", TS(), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_rulebook")),
        sa.UniqueConstraint("name", name=op.f("uq_risk_rulebook_name")),
    )
    op.create_table(
        "risk_decisions",
        sa.Column("id", BIG, autoincrement=False, nullable=False),
        sa.Column("at", TS(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("customer_id", BIG, nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_decisions")),
    )
    op.create_index("ix_risk_decisions_at", "risk_decisions", ["at", "id"])
    op.create_index("ix_risk_decisions_customer", "risk_decisions", ["customer_id", "id"])
    op.create_table(
        "risk_credit",
        sa.Column("customer_id", BIG, autoincrement=False, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("scored_at", TS(), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_risk_credit")),
    )
    op.create_table(
        "risk_lists",
        sa.Column("id", BIG, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("dim", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_lists")),
        sa.UniqueConstraint("kind", "dim", "value", name=op.f("uq_risk_lists_kind_dim_value")),
    )
    op.create_table(
        "risk_reviews",
        sa.Column("id", BIG, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("ref_id", BIG, nullable=False),
        sa.Column("customer_id", BIG, nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", TS(), nullable=False),
        sa.Column("decided_at", TS(), nullable=True),
        sa.Column("decided_by", BIG, nullable=True),
        sa.Column("decided_by_name", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_reviews")),
        sa.UniqueConstraint("kind", "ref_id", name=op.f("uq_risk_reviews_kind_ref_id")),
    )
    op.create_index("ix_risk_reviews_status", "risk_reviews", ["status", "id"])


def downgrade() -> None:
    op.drop_table("risk_reviews")
    op.drop_table("risk_lists")
    op.drop_table("risk_credit")
    op.drop_table("risk_decisions")
    op.drop_table("risk_rulebook")

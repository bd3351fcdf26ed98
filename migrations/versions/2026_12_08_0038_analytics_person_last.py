"""The dashboard's distinct people fast: `analytics_person_last` (each person's last day per tool and funnel
step, filled from `analytics_daily_steps`) and `analytics_last_days` (how many people have each last day),
a participant's implied view of the tool, and indexes on commission entries' and distributor orders'
times (the dashboard reads a range of each)

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "analytics_person_last",
        sa.Column("tool", sa.String(length=24), nullable=False),
        sa.Column("step", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("person", BIG, autoincrement=False, nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tool", "step", "person", name=op.f("pk_analytics_person_last")),
    )
    # A participant saw the tool (wherever: a coupon claimed from a product page): the rollup now adds that
    # view with the participation, and the days already rolled up get it here.
    op.execute(
        """INSERT INTO analytics_daily_steps (day, tool, step, person)
        SELECT day, tool, 1, person FROM analytics_daily_steps WHERE step = 2 ON CONFLICT DO NOTHING"""
    )
    op.execute(
        """INSERT INTO analytics_person_last (tool, step, person, last_day)
        SELECT tool, step, person, max(day) FROM analytics_daily_steps GROUP BY tool, step, person"""
    )
    op.create_table(
        "analytics_last_days",
        sa.Column("tool", sa.String(length=24), nullable=False),
        sa.Column("step", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("persons", BIG, nullable=False),
        sa.PrimaryKeyConstraint("tool", "step", "last_day", name=op.f("pk_analytics_last_days")),
    )
    op.execute(
        """INSERT INTO analytics_last_days (tool, step, last_day, persons)
        SELECT tool, step, last_day, count(*) FROM analytics_person_last GROUP BY tool, step, last_day"""
    )
    op.create_index("ix_distribution_commissions_created", "distribution_commissions", ["created_at"])
    op.create_index("ix_distribution_orders_paid", "distribution_orders", ["paid_at"])


def downgrade() -> None:
    op.drop_index("ix_distribution_orders_paid", table_name="distribution_orders")
    op.drop_index("ix_distribution_commissions_created", table_name="distribution_commissions")
    op.drop_table("analytics_last_days")
    op.drop_table("analytics_person_last")

"""The dashboard's distinct people by funnel step with integer persons: `analytics_daily_steps` (day, tool,
step, person as the primary key) and `analytics_devices` (a number per anonymous device) replace
`analytics_daily_people` (one text person per kind), refilled from the raw events already rolled up

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PARTICIPATION = (
    "'seckill_attempt','group_open','group_join','bargain_start','bargain_help','coupon_claim','distributor_apply'"
)
ROLLED = "e.id <= (SELECT coalesce(max(last_id), 0) FROM analytics_rollup_state WHERE name = 'events')"
STEP = f"""CASE WHEN e.kind = 'page_view' THEN 1 WHEN e.kind IN ({PARTICIPATION}) THEN 2
    WHEN e.kind = 'order_created' THEN 3 WHEN e.kind = 'order_paid' THEN 4 END"""
STEP_KINDS = f"e.kind IN ('page_view', 'order_created', 'order_paid', {PARTICIPATION})"


def upgrade() -> None:
    op.create_table(
        "analytics_devices",
        sa.Column("id", BIG, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_devices")),
        sa.UniqueConstraint("device_id", name=op.f("uq_analytics_devices_device_id")),
    )
    op.create_table(
        "analytics_daily_steps",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tool", sa.String(length=24), nullable=False),
        sa.Column("step", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("person", BIG, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("day", "tool", "step", "person", name=op.f("pk_analytics_daily_steps")),
    )
    op.execute(
        f"""INSERT INTO analytics_devices (device_id) SELECT DISTINCT e.device_id FROM analytics_events e
        WHERE {ROLLED} AND {STEP_KINDS} AND e.customer_id IS NULL AND e.device_id IS NOT NULL ORDER BY 1"""
    )
    op.execute(
        f"""INSERT INTO analytics_daily_steps (day, tool, step, person)
        SELECT DISTINCT e.day, coalesce(e.tool, ''), {STEP}, coalesce(e.customer_id, -d.id)
        FROM analytics_events e LEFT JOIN analytics_devices d ON e.customer_id IS NULL AND d.device_id = e.device_id
        WHERE {ROLLED} AND {STEP_KINDS} AND (e.customer_id IS NOT NULL OR e.device_id IS NOT NULL)"""
    )
    op.drop_table("analytics_daily_people")


def downgrade() -> None:
    op.create_table(
        "analytics_daily_people",
        sa.Column("id", BIG, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tool", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("person", sa.String(length=72), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_daily_people")),
        sa.UniqueConstraint(
            "day", "tool", "kind", "person", name=op.f("uq_analytics_daily_people_day_tool_kind_person")
        ),
    )
    op.execute(
        f"""INSERT INTO analytics_daily_people (day, tool, kind, person)
        SELECT DISTINCT e.day, coalesce(e.tool, ''), e.kind,
            CASE WHEN e.customer_id IS NOT NULL THEN 'c' || CAST(e.customer_id AS VARCHAR) ELSE 'd' || e.device_id END
        FROM analytics_events e WHERE {ROLLED} AND (e.customer_id IS NOT NULL OR e.device_id IS NOT NULL)"""
    )
    op.drop_table("analytics_daily_steps")
    op.drop_table("analytics_devices")

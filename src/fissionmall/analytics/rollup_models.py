"""The dashboard's daily rollups: what the worker adds up so a date range reads a few thousand rows, not
tens of millions of raw events or a million orders.

- `analytics_daily`: per (day, tool, kind, distributor) the number of raw events and their amount.
- `analytics_daily_steps`: who reached a funnel step, once per (day, tool, step, person): distinct
  visitors, participants, buyers and payers over a range are counted here. A person is an integer: the
  customer id, or minus an anonymous device's number in `analytics_devices` (exact, never a hash), so the
  range's distinct is a hash of integers read by an index-only scan of the primary key.
- `analytics_person_last`: each person's last day per (tool, step), and `analytics_last_days` how many
  people have each last day: the distinct count of a range that reaches the newest day is a sum of days.
- `analytics_devices`: a number per anonymous device id, given the first time its events are rolled up.
- `analytics_daily_orders`: per (day, tool, via) the orders paid that day, their paid fen, the refunds
  that succeeded that day (on the refund's own date) and the tool's discount cost. `via` is "source"
  (the order's own source: its GMV counts once) or "step" (a coupon, 满减 or member price that priced
  an order of any source).
- `analytics_customers`: each shopper's first paid order (its tool and day) and how many they paid.
- `analytics_rollup_state` (the raw-event watermark) and `analytics_rollup_applied` (an order event
  applied once: a redelivery adds nothing).

Rows without a tool or a distributor store "" and 0, so the unique keys hold on both dialects.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class DailyRollup(Base):
    __tablename__ = "analytics_daily"
    __table_args__ = (UniqueConstraint("day", "tool", "kind", "distributor_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date]
    tool: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(32))
    distributor_id: Mapped[int] = mapped_column(BigId, default=0)
    events: Mapped[int] = mapped_column(BigId, default=0)
    amount_fen: Mapped[int] = mapped_column(Money, default=0)


# The funnel steps stored per person: page views, any tool participation, orders placed, orders paid.
STEP_CODES: dict[str, int] = {"viewed": 1, "participated": 2, "ordered": 3, "paid": 4}


class DailyPerson(Base):
    __tablename__ = "analytics_daily_steps"
    # The key's order (day first, person last) is what a range's distinct reads without the table.
    day: Mapped[date] = mapped_column(primary_key=True)
    tool: Mapped[str] = mapped_column(String(24), primary_key=True)
    step: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    person: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)


class PersonLast(Base):
    """Each person's last day at a funnel step of a tool. Over a range that ends on or after the newest
    day rolled up, "reached the step in the range" is "last day ≥ the range's start" (the dashboard's usual
    近 7 / 30 天): counted from LastDayCount, kept beside it, instead of a distinct over every person-day."""

    __tablename__ = "analytics_person_last"
    tool: Mapped[str] = mapped_column(String(24), primary_key=True)
    step: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    person: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    last_day: Mapped[date]


class LastDayCount(Base):
    """How many people have each last day per (tool, step): PersonLast's histogram, kept with it. A range
    that reaches the newest day counts the people whose last day is on or after its start: a sum over at
    most a few hundred days, whatever the number of people."""

    __tablename__ = "analytics_last_days"
    tool: Mapped[str] = mapped_column(String(24), primary_key=True)
    step: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    last_day: Mapped[date] = mapped_column(primary_key=True)
    persons: Mapped[int] = mapped_column(BigId, default=0)


class AnalyticsDevice(Base):
    __tablename__ = "analytics_devices"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), unique=True)


class DailyOrders(Base):
    __tablename__ = "analytics_daily_orders"
    __table_args__ = (UniqueConstraint("day", "tool", "via"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date]
    tool: Mapped[str] = mapped_column(String(24))
    via: Mapped[str] = mapped_column(String(8))  # source | step
    orders: Mapped[int] = mapped_column(BigId, default=0)
    paid_fen: Mapped[int] = mapped_column(Money, default=0)
    refund_fen: Mapped[int] = mapped_column(Money, default=0)
    discount_fen: Mapped[int] = mapped_column(Money, default=0)


class CustomerFirst(Base):
    __tablename__ = "analytics_customers"
    __table_args__ = (Index("ix_analytics_customers_day", "first_day"),)
    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    first_order_id: Mapped[int] = mapped_column(BigId)
    first_paid_at: Mapped[datetime]
    first_day: Mapped[date]
    first_tool: Mapped[str] = mapped_column(String(24))
    paid_orders: Mapped[int] = mapped_column(default=1)


class RollupState(Base):
    __tablename__ = "analytics_rollup_state"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigId, default=0)
    updated_at: Mapped[datetime]


class RollupApplied(Base):
    __tablename__ = "analytics_rollup_applied"
    key: Mapped[str] = mapped_column(String(48), primary_key=True)

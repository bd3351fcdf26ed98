"""The merchant's data: raw events (one row per thing that happened, never edited) and each paid order's
attribution. Rollups and experiments keep tables of their own.

`analytics_events` is written once per event: `key` is unique, so an outbox event delivered twice or a
client batch sent again adds nothing. On PostgreSQL `at` has a BRIN index: rows arrive in time order, so
a date-range scan over tens of millions of rows reads only the blocks of those days.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class AnalyticsEvent(Base):
    __tablename__ = "analytics_events"
    __table_args__ = (
        Index("ix_analytics_events_at_brin", "at", postgresql_using="brin"),
        Index("ix_analytics_events_customer_at", "customer_id", "at"),
        Index("ix_analytics_events_order", "order_id"),
        # A shopper's touches before they logged in: the anonymous events of their device (attribution.py).
        Index(
            "ix_analytics_events_device_at",
            "device_id",
            "at",
            postgresql_where=text("customer_id IS NULL"),
            sqlite_where=text("customer_id IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Unique per event: "<outbox event type>:<its id>" from the server, "c:<shopper or device>:<client id>"
    # from the shop. A duplicate is dropped at insert (ON CONFLICT DO NOTHING).
    key: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # analytics.kinds
    origin: Mapped[str] = mapped_column(String(8))  # client | server
    at: Mapped[datetime]  # when it happened (a late event keeps its own time)
    day: Mapped[date]  # `at` as the shop's date (Asia/Shanghai): what the daily rollups group by
    received_at: Mapped[datetime]
    customer_id: Mapped[int | None] = mapped_column(BigId)
    device_id: Mapped[str | None] = mapped_column(String(64))
    product_id: Mapped[int | None] = mapped_column(BigId)
    tool: Mapped[str | None] = mapped_column(String(24))  # analytics.kinds.TOOLS, or an order source
    campaign: Mapped[str | None] = mapped_column(String(48))  # "groupbuy:12", "seckill:3", "coupon:7"
    distributor_id: Mapped[int | None] = mapped_column(BigId)
    variant: Mapped[str | None] = mapped_column(String(64))  # "<experiment id>:<arm name>"
    order_id: Mapped[int | None] = mapped_column(BigId)
    ref: Mapped[str | None] = mapped_column(String(64))  # a share code, a page
    amount_fen: Mapped[int] = mapped_column(Money, default=0)  # paid GMV, a refund's amount


class OrderAttribution(Base):
    """Which tool and which distributor brought a paid order, by first touch and by last touch within the
    configured window (one row per order and model). A touch is a share link opened, a tool joined."""

    __tablename__ = "analytics_attributions"
    __table_args__ = (
        UniqueConstraint("order_id", "model"),
        Index("ix_analytics_attributions_day", "day", "model"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId)
    model: Mapped[str] = mapped_column(String(8))  # first | last
    day: Mapped[date]  # the payment's shop date
    tool: Mapped[str] = mapped_column(String(24))  # the touching tool, or the order's own source
    distributor_id: Mapped[int | None] = mapped_column(BigId)
    paid_fen: Mapped[int] = mapped_column(Money)
    touch_event_id: Mapped[int | None] = mapped_column(BigId)


class AnalyticsConfig(Base):
    """One row (id 1): the attribution window, and how far the flash-sale attempts have been copied."""

    __tablename__ = "analytics_config"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    window_days: Mapped[int] = mapped_column(default=7)
    seckill_watermark: Mapped[int] = mapped_column(BigId, default=0)  # the last seckill_attempts.id copied
    updated_at: Mapped[datetime]


# The dashboard's rollup tables live in their own module; imported here so every table is known wherever
# the models are (Alembic, the tests' table list).
from fissionmall.analytics import rollup_models as rollup_models  # noqa: E402

"""Bargaining tables: activities (with their own stock), bargains, helps, and per-shopper counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class BargainActivity(Base):
    """One SKU sold by bargaining. `stock` is what the activity took from the SKU (held and sold units
    included), `stock_left` what is still free; when it is closed the free units went back to the SKU."""

    __tablename__ = "bargain_activities"
    __table_args__ = (
        CheckConstraint("stock_left >= 0 AND stock_left <= stock", name="left_within_stock"),
        CheckConstraint("target_fen < start_fen", name="target_below_start"),
        CheckConstraint("helpers_needed >= 1", name="helpers_positive"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    start_fen: Mapped[int] = mapped_column(Money)
    target_fen: Mapped[int] = mapped_column(Money)
    helpers_needed: Mapped[int]
    min_cut_fen: Mapped[int | None] = mapped_column(Money)
    max_cut_fen: Mapped[int | None] = mapped_column(Money)
    duration_minutes: Mapped[int]
    buy_minutes: Mapped[int] = mapped_column(default=1440)  # time to order after reaching the target
    pay_minutes: Mapped[int] = mapped_column(default=15)
    buy_early: Mapped[bool] = mapped_column(default=False)  # may order at the current price before the target
    new_user_only: Mapped[bool] = mapped_column(default=False)  # only new shoppers may help
    new_user_boost_bp: Mapped[int] = mapped_column(default=10_000)  # a new shopper's cut × this / 10000
    max_starts_per_user: Mapped[int] = mapped_column(default=1)
    daily_help_limit: Mapped[int] = mapped_column(default=10)  # helps a friend gives per day, every activity
    stock: Mapped[int]
    stock_left: Mapped[int]
    stock_closed: Mapped[bool] = mapped_column(default=False)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | closed
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Bargain(Base):
    """One shopper's bargain. The rules are copied from the activity when it starts, so an edit of the
    activity never changes a bargain already under way. `price_fen` and `helps` move together in one
    compare-and-set per help; start_fen − Σ helps' cuts = price_fen always."""

    __tablename__ = "bargains"
    __table_args__ = (
        Index("ix_bargains_activity_status", "activity_id", "status", "id"),
        Index("ix_bargains_customer", "customer_id", "id"),
        CheckConstraint("price_fen >= target_fen", name="price_not_below_target"),
        CheckConstraint("helps >= 0 AND helps <= helpers_needed", name="helps_within_needed"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("bargain_activities.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    start_fen: Mapped[int] = mapped_column(Money)
    target_fen: Mapped[int] = mapped_column(Money)
    price_fen: Mapped[int] = mapped_column(Money)
    helpers_needed: Mapped[int]
    helps: Mapped[int] = mapped_column(default=0)
    new_helpers: Mapped[int] = mapped_column(default=0)
    min_cut_fen: Mapped[int | None] = mapped_column(Money)
    max_cut_fen: Mapped[int | None] = mapped_column(Money)
    boost_bp: Mapped[int] = mapped_column(default=10_000)
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="active")
    expires_at: Mapped[datetime]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    orders_placed: Mapped[int] = mapped_column(default=0)
    starter_ip: Mapped[str | None] = mapped_column(String(45))
    starter_device: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    reached_at: Mapped[datetime | None]
    bought_at: Mapped[datetime | None]


class BargainHelp(Base):
    """One friend's cut. The unique key is the wall against a friend helping twice (however concurrent)."""

    __tablename__ = "bargain_helps"
    __table_args__ = (UniqueConstraint("bargain_id", "helper_id"), Index("ix_bargain_helps_helper", "helper_id", "id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bargain_id: Mapped[int] = mapped_column(ForeignKey("bargains.id"))
    helper_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    cut_fen: Mapped[int] = mapped_column(Money)
    price_after_fen: Mapped[int] = mapped_column(Money)
    is_new_user: Mapped[bool] = mapped_column(default=False)
    helper_since: Mapped[datetime]  # when the friend's account was made (the risk gate's burst rule)
    ip: Mapped[str | None] = mapped_column(String(45))
    device_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]


class BargainQuota(Base):
    """Bargains one shopper started in one activity (a conditional counter against max_starts_per_user)."""

    __tablename__ = "bargain_quotas"
    __table_args__ = (UniqueConstraint("activity_id", "customer_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("bargain_activities.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    started: Mapped[int] = mapped_column(default=0)


class BargainHelpDay(Base):
    """Helps one friend gave on one day (the shop's date), over every activity."""

    __tablename__ = "bargain_help_days"
    __table_args__ = (UniqueConstraint("customer_id", "day"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    day: Mapped[str] = mapped_column(String(10))
    helps: Mapped[int] = mapped_column(default=0)

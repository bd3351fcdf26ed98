"""Flash-sale tables: sessions, their items (each with a pool taken out of the SKU's stock), per-buyer
counts (the database's per-user guard), attempts (one row per finished reservation) and notify-me requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fissionmall.core.db import Base, BigId, Money


class SeckillSession(Base):
    __tablename__ = "seckill_sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | deleted
    # Daily repeats still to come (10:00 every day for a week: 6). The next day's session is made when this
    # one starts, its pools reserved from the SKU's stock only then.
    repeat_left: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime]
    items: Mapped[list[SeckillItem]] = relationship(order_by="SeckillItem.id", lazy="selectin")


class SeckillItem(Base):
    __tablename__ = "seckill_items"
    # The second wall behind Redis: the database never records more units sold than the pool.
    __table_args__ = (
        CheckConstraint("sold >= 0 AND sold <= pool", name="sold_within_pool"),
        CheckConstraint("per_user_limit >= 1", name="limit_positive"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("seckill_sessions.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    price_fen: Mapped[int] = mapped_column(Money)
    pool: Mapped[int]
    sold: Mapped[int] = mapped_column(default=0)  # units in live (not cancelled) orders
    per_user_limit: Mapped[int] = mapped_column(default=1)
    new_users_only: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class SeckillBuyer(Base):
    __tablename__ = "seckill_buyers"
    __table_args__ = (
        UniqueConstraint("item_id", "customer_id"),
        CheckConstraint("qty >= 0", name="qty_not_negative"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("seckill_items.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    qty: Mapped[int] = mapped_column(default=0)


class SeckillAttempt(Base):
    """A reservation that reached the database: the order it became, or why it failed."""

    __tablename__ = "seckill_attempts"
    __table_args__ = (Index("ix_seckill_attempts_item", "item_id", "status"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(String(64), unique=True)
    token_nonce: Mapped[str | None] = mapped_column(String(32), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("seckill_items.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    qty: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))  # succeeded | failed
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class SeckillNotify(Base):
    __tablename__ = "seckill_notify"
    __table_args__ = (UniqueConstraint("item_id", "customer_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("seckill_items.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime]
    notified_at: Mapped[datetime | None]

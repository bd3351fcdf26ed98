"""Promotions: full-reduction, full-gift, free shipping, limited-time discount, tiered price."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class Promotion(Base):
    __tablename__ = "promotions"
    __table_args__ = (
        Index("ix_promotions_live", "status", "starts_at", "ends_at"),
        CheckConstraint("gift_given >= 0 AND (gift_stock IS NULL OR gift_given <= gift_stock)", name="gift_stock"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # full_reduction | gift | free_shipping | limited_discount | tiered_price
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    scope_kind: Mapped[str] = mapped_column(String(16), default="all")
    scope_ids: Mapped[list[Any]] = mapped_column(default=list)
    scope_exclude: Mapped[bool] = mapped_column(default=False)
    basis: Mapped[str] = mapped_column(String(8), default="amount")  # amount | count
    # full_reduction: [{threshold, amount_fen, percent_bp}]; tiered_price: [{min_qty, unit_price_fen}]
    tiers: Mapped[list[Any]] = mapped_column(default=list)
    # limited_discount: [{sku_id, price_fen | percent_bp}]
    items: Mapped[list[Any]] = mapped_column(default=list)
    sku_id: Mapped[int | None]  # tiered_price: the SKU
    threshold: Mapped[int] = mapped_column(Money, default=0)  # gift (amount or count) / free_shipping (fen)
    gift_sku_id: Mapped[int | None]
    gift_qty: Mapped[int] = mapped_column(default=1)
    gift_stock: Mapped[int | None]  # the gift's own stock, apart from the SKU's
    gift_given: Mapped[int] = mapped_column(default=0)
    used_orders: Mapped[int] = mapped_column(default=0)  # paid orders it priced
    discount_fen: Mapped[int] = mapped_column(Money, default=0)  # what it gave away on them
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class GiftReservation(Base):
    """The gift units an order holds, so cancelling the order gives them back exactly once."""

    __tablename__ = "promotion_gift_reservations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(index=True)
    promotion_id: Mapped[int]
    qty: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="held")  # held | released


class PromotionUse(Base):
    """One row per (paid order, promotion): makes the usage figures count each order once."""

    __tablename__ = "promotion_uses"
    order_id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(primary_key=True)
    discount_fen: Mapped[int] = mapped_column(Money, default=0)

"""积分商城 tables: the items (a SKU or a coupon template for points, optionally + cash), each shopper's
count per item, and the redemptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class MallItem(Base):
    __tablename__ = "points_mall_items"
    __table_args__ = (
        CheckConstraint("units_left >= 0", name="units_left_not_negative"),
        CheckConstraint("points >= 1", name="points_positive"),
        Index("ix_points_mall_items_live", "deleted", "active", "sort_order"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # product | coupon
    title: Mapped[str] = mapped_column(String(60))
    # Catalog and coupons own these rows: the item names them and keeps no foreign key (a product is never
    # deleted for real; a coupon template in use cannot be).
    product_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sku_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    coupon_template_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    points: Mapped[int]  # the points price of one unit
    cash_fen: Mapped[int] = mapped_column(Money, default=0)  # 积分+现金: the cash part of one unit
    # `stock` is what the item took (from the SKU for a product item), redeemed units included;
    # `units_left` what is still for redemption. A closed item gave its units_left back to the SKU.
    stock: Mapped[int]
    units_left: Mapped[int]
    redeemed: Mapped[int] = mapped_column(default=0)  # units redeemed and not given back
    per_user_limit: Mapped[int] = mapped_column(default=0)  # units per shopper over the item; 0 = no limit
    starts_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    closed: Mapped[bool] = mapped_column(default=False)  # ended or deleted: stock given back, for good
    deleted: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MallQuota(Base):
    """How many units of an item a shopper holds: a guarded counter (used + qty <= limit)."""

    __tablename__ = "points_mall_quotas"
    __table_args__ = (UniqueConstraint("item_id", "customer_id", name="uq_points_mall_quotas_item_customer"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("points_mall_items.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    used: Mapped[int] = mapped_column(default=0)


class Redemption(Base):
    __tablename__ = "points_mall_redemptions"
    __table_args__ = (
        Index("ix_points_mall_redemptions_customer", "customer_id", "id"),
        Index("ix_points_mall_redemptions_item", "item_id", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("points_mall_items.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # product | coupon
    title: Mapped[str] = mapped_column(String(60))  # the item's title then
    qty: Mapped[int]
    points: Mapped[int]  # points spent in all
    cash_fen: Mapped[int] = mapped_column(Money, default=0)  # the cash part in all (shipping not included)
    # granted (coupon) | ordered (order placed, unpaid) | paid | cancelled (unpaid order cancelled: all back)
    # | refunded (the order refunded in full: points back)
    status: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True, nullable=True)
    coupon_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

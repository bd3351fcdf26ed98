"""Group-buying tables: activities, groups, members, and per-shopper quotas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fissionmall.core.db import Base, BigId, Money


class GroupActivity(Base):
    __tablename__ = "groupbuy_activities"
    __table_args__ = (CheckConstraint("group_size >= 2", name="size_at_least_two"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    skus: Mapped[list[Any]]  # [{sku_id, price_fen}]
    group_size: Mapped[int]
    duration_minutes: Mapped[int]
    pay_minutes: Mapped[int] = mapped_column(default=15)
    new_user_required: Mapped[bool] = mapped_column(default=False)
    leader_discount_fen: Mapped[int] = mapped_column(Money, default=0)
    leader_points: Mapped[int] = mapped_column(default=0)
    leader_coupon_template_id: Mapped[int | None]
    max_open_per_user: Mapped[int] = mapped_column(default=3)
    per_user_limit: Mapped[int] = mapped_column(default=0)  # units per shopper over the activity; 0 = no limit
    per_order_limit: Mapped[int] = mapped_column(default=5)
    auto_fill: Mapped[bool] = mapped_column(default=False)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | closed
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # No pool: the activity sells straight from the SKUs' own stock.
    pools: Mapped[list[GroupPool]] = relationship(order_by="GroupPool.sku_id", lazy="selectin")

    @property
    def stock(self) -> int | None:
        """Units the activity took from its SKUs and still holds (sold or not); None: no pool of its own."""
        return sum(p.pool for p in self.pools) if self.pools else None

    @property
    def stock_left(self) -> int | None:
        return sum(p.units_left for p in self.pools) if self.pools else None


class GroupPool(Base):
    """One SKU's units moved out of the SKU's stock into an activity. `pool` = units_left + units held by
    live group orders; when it is closed (activity ended or closed, SKU dropped) units_left went back to
    the SKU, and a unit that comes back later goes to the SKU too."""

    __tablename__ = "groupbuy_pools"
    __table_args__ = (
        UniqueConstraint("activity_id", "sku_id"),
        CheckConstraint("units_left >= 0 AND units_left <= pool", name="left_within_pool"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_activities.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    pool: Mapped[int]
    units_left: Mapped[int]
    closed: Mapped[bool] = mapped_column(default=False)


class Group(Base):
    __tablename__ = "groupbuy_groups"
    __table_args__ = (
        Index("ix_groupbuy_groups_activity", "activity_id", "status", "id"),
        CheckConstraint("seats_taken <= size", name="seats_within_size"),
        CheckConstraint("paid_count <= size", name="paid_within_size"),
        CheckConstraint("seats_taken >= 0", name="seats_not_negative"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_activities.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    size: Mapped[int]
    seats_taken: Mapped[int] = mapped_column(default=1)  # reserved + paid members (virtual ones included)
    paid_count: Mapped[int] = mapped_column(default=0)
    new_users: Mapped[int] = mapped_column(default=0)  # paid members who were new shoppers
    virtual_count: Mapped[int] = mapped_column(default=0)
    new_user_required: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    formed_at: Mapped[datetime | None]
    succeeded_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]


class GroupMember(Base):
    __tablename__ = "groupbuy_members"
    # `holder` is the shopper while the member holds a seat, NULL once released: a shopper holds at
    # most one seat per group (NULLs never collide), yet may come back after an unpaid order lapsed.
    __table_args__ = (UniqueConstraint("group_id", "holder"), Index("ix_groupbuy_members_customer", "customer_id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_groups.id"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_activities.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))  # None: a virtual member
    holder: Mapped[int | None]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    role: Mapped[str] = mapped_column(String(8))  # leader | member | virtual
    status: Mapped[str] = mapped_column(String(12))
    sku_id: Mapped[int | None]
    qty: Mapped[int] = mapped_column(default=1)
    is_new_user: Mapped[bool] = mapped_column(default=False)
    refunded_fen: Mapped[int] = mapped_column(Money, default=0)  # refunds seen for this member's order
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]


class GroupQuota(Base):
    """What one shopper holds in one activity: groups open now and units bought (conditional updates)."""

    __tablename__ = "groupbuy_quotas"
    __table_args__ = (
        UniqueConstraint("activity_id", "customer_id"),
        CheckConstraint("open_now >= 0", name="open_not_negative"),
        CheckConstraint("units >= 0", name="units_not_negative"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_activities.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    open_now: Mapped[int] = mapped_column(default=0)
    units: Mapped[int] = mapped_column(default=0)

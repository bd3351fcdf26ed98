"""付费会员 rows: plans, each shopper's membership, every purchase, the monthly grants, SKU member prices
and member-only products."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class VipPlan(Base):
    __tablename__ = "vip_plans"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    price_fen: Mapped[int] = mapped_column(Money)
    days: Mapped[int]
    discount_bp: Mapped[int] = mapped_column(default=10_000)  # what a member pays: 9500 = 9.5折
    # 每月赠券: `grant_count` coupons of the template each month (coupons owns the template: no foreign key)
    grant_template_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    grant_count: Mapped[int] = mapped_column(default=0)
    cooling_days: Mapped[int] = mapped_column(default=7)  # 无理由退款期, from the payment
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class VipMember(Base):
    """A shopper's membership: one row per shopper. `run_no` counts unbroken runs (a lapsed membership
    bought again starts a new run, anchored at that payment); the monthly grants fall due from `anchor_at`."""

    __tablename__ = "vip_members"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("vip_plans.id"))
    run_no: Mapped[int] = mapped_column(default=0)
    anchor_at: Mapped[datetime]
    until: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class VipPurchase(Base):
    """One bought plan: pending → active (the payment's compare-and-set) → refunded; or cancelled unpaid.
    The plan's terms are copied at the purchase: an edit of the plan changes no period already sold."""

    __tablename__ = "vip_purchases"
    __table_args__ = (Index("ix_vip_purchases_customer", "customer_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("vip_plans.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|active|refunded|cancelled
    plan_name: Mapped[str] = mapped_column(String(32))
    price_fen: Mapped[int] = mapped_column(Money)
    days: Mapped[int]
    cooling_days: Mapped[int]
    run_no: Mapped[int | None] = mapped_column(nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(nullable=True)  # the period it paid for
    until: Mapped[datetime | None] = mapped_column(nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(nullable=True)
    refunded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    refund_fen: Mapped[int | None] = mapped_column(Money, nullable=True)
    refund_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


class VipGrant(Base):
    """One month's coupons for one run: the unique (customer, run, month) makes each month once only."""

    __tablename__ = "vip_grants"
    __table_args__ = (UniqueConstraint("customer_id", "run_no", "month", name="uq_vip_grants_month"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    run_no: Mapped[int]
    month: Mapped[int]  # 0: at activation, 1: a month later, …
    due_at: Mapped[datetime]
    coupon_ids: Mapped[list[Any]] = mapped_column(default=list)
    taken_back: Mapped[int] = mapped_column(default=0)  # coupons taken back by a cooling-off refund
    granted_at: Mapped[datetime]


class VipSkuPrice(Base):
    """会员价: a paid member's unit price of a SKU (catalog owns SKUs: no foreign key, checked on save)."""

    __tablename__ = "vip_sku_prices"
    sku_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, index=True)
    price_fen: Mapped[int] = mapped_column(Money)


class VipOnlyProduct(Base):
    """会员专享: only an active paid member may buy the product."""

    __tablename__ = "vip_only_products"
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)

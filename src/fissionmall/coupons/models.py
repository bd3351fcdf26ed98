"""Coupon templates (what an operator configures) and coupons (one per shopper per claim)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class CouponTemplate(Base):
    __tablename__ = "coupon_templates"
    __table_args__ = (
        # The database is the last wall behind the conditional `issued = issued + 1`.
        CheckConstraint("total IS NULL OR issued <= total", name="issued_within_total"),
        CheckConstraint("issued >= 0 AND used >= 0", name="counts_not_negative"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16))  # amount | percent
    amount_fen: Mapped[int] = mapped_column(Money, default=0)
    percent_bp: Mapped[int] = mapped_column(default=0)  # off: 1000 = 10% off
    max_discount_fen: Mapped[int | None] = mapped_column(Money)
    threshold_fen: Mapped[int] = mapped_column(Money, default=0)
    scope_kind: Mapped[str] = mapped_column(String(16), default="all")  # all | products | categories
    scope_ids: Mapped[list[Any]] = mapped_column(default=list)
    scope_exclude: Mapped[bool] = mapped_column(default=False)
    valid_from: Mapped[datetime | None]  # fixed window …
    valid_until: Mapped[datetime | None]
    valid_days: Mapped[int | None]  # … or N days after the claim
    claim_from: Mapped[datetime | None]
    claim_until: Mapped[datetime | None]
    total: Mapped[int | None]  # None: unlimited
    issued: Mapped[int] = mapped_column(default=0)
    used: Mapped[int] = mapped_column(default=0)
    per_user_limit: Mapped[int] = mapped_column(default=1)
    issue_mode: Mapped[str] = mapped_column(String(16), default="claim")  # claim | new_user | operator
    once_per_order: Mapped[bool] = mapped_column(default=False)
    return_on_refund: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (Index("ix_coupons_customer", "customer_id", "status", "valid_until"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(16), default="available")  # available | locked | used | expired
    source: Mapped[str] = mapped_column(String(16), default="claim")  # claim | new_user | operator
    # Grants that must happen once (the new-user pack, an operator's batch) carry a unique key.
    grant_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    order_id: Mapped[int | None] = mapped_column(index=True)  # the order holding or having used it
    claimed_at: Mapped[datetime]
    locked_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]


class CouponClaimCount(Base):
    """How many coupons of a template a shopper holds: the per-user limit is a conditional upsert here."""

    __tablename__ = "coupon_claim_counts"
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

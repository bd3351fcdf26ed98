"""会员等级 rows: the levels and their benefits, each shopper's membership profile, the growth ledger
(entries never edited: the growth is their sum) and the shop's membership settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class MemberLevel(Base):
    __tablename__ = "member_levels"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)
    rank: Mapped[int] = mapped_column(unique=True)  # 0: the base level (普通会员), higher is better
    threshold_fen: Mapped[int] = mapped_column(Money, unique=True)  # growth value (fen of goods paid) to reach it
    discount_bp: Mapped[int] = mapped_column(default=10_000)  # what a member pays: 9000 = 9折, 10000 none
    points_multiplier_bp: Mapped[int] = mapped_column(default=10_000)  # 15000 = 1.5 倍积分
    # Coupons owns templates: named by id, no foreign key (a deleted template grants nothing).
    birthday_template_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    free_shipping: Mapped[bool] = mapped_column(default=False)
    priority_service: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MemberProfile(Base):
    """One row per shopper who has earned growth or set a birthday: the level they hold now.

    Every growth entry of a shopper is written under this row's lock, so the level set after it has
    counted every entry committed before."""

    __tablename__ = "member_profiles"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    level_id: Mapped[int | None] = mapped_column(ForeignKey("member_levels.id", ondelete="SET NULL"), index=True)
    total_fen: Mapped[int] = mapped_column(Money, default=0)  # lifetime growth (all entries), for the console
    birthday: Mapped[date | None] = mapped_column(Date, nullable=True)
    level_changed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class GrowthEntry(Base):
    """A growth ledger entry: + an order line's paid goods, − the goods a refund returned.

    `earned_at` is the time the window counts it at: a refund's entry carries its order's payment time,
    so it leaves the rolling window together with the growth it takes back."""

    __tablename__ = "member_growth"
    __table_args__ = (Index("ix_member_growth_customer_earned", "customer_id", "earned_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # order | refund
    key: Mapped[str] = mapped_column(String(80), unique=True)  # order:{order}:{line} | refund:{refund}:{line}
    order_id: Mapped[int] = mapped_column(BigInteger, index=True)
    line_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    refund_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    amount_fen: Mapped[int] = mapped_column(Money)
    earned_at: Mapped[datetime]
    created_at: Mapped[datetime]


class MembershipConfig(Base):
    """One row (id 1): the member day and the level rules as validated JSON (schemas.MembershipConfigData)."""

    __tablename__ = "membership_config"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]

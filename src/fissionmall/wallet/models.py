"""储值's tables: packages, one balance row per shopper, the ledger (never edited), top-ups, the setting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class WalletPackage(Base):
    """A 储值套餐: pay `pay_fen`, get `pay_fen` of principal and `bonus_fen` of bonus (储值 500 送 100)."""

    __tablename__ = "wallet_packages"
    __table_args__ = (Index("ix_wallet_packages_active_sort", "active", "sort_order"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    pay_fen: Mapped[int] = mapped_column(Money)
    bonus_fen: Mapped[int] = mapped_column(Money, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WalletBalance(Base):
    """A shopper's balance: always the sum of their entries, moved only with an entry, by a guarded UPDATE."""

    __tablename__ = "wallet_balances"
    __table_args__ = (
        CheckConstraint("principal_fen >= 0", name="principal_not_negative"),
        CheckConstraint("bonus_fen >= 0", name="bonus_not_negative"),
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    principal_fen: Mapped[int] = mapped_column(Money, default=0)
    bonus_fen: Mapped[int] = mapped_column(Money, default=0)
    updated_at: Mapped[datetime]


class WalletEntry(Base):
    """One movement of a wallet, never edited. `key` makes each movement once only (pay:{order},
    refund:{refund}, topup:{top-up} …)."""

    __tablename__ = "wallet_entries"
    __table_args__ = (
        Index("ix_wallet_entries_customer", "customer_id", "id"),
        Index("ix_wallet_entries_ref", "ref"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # topup | pay | release | refund | topup_refund | adjust
    principal_delta: Mapped[int] = mapped_column(Money)
    bonus_delta: Mapped[int] = mapped_column(Money)
    ref: Mapped[str] = mapped_column(String(64), default="")  # order:12, refund:3, topup:5
    operator_id: Mapped[int | None] = mapped_column(BigInteger)  # the admin of an adjustment or a top-up refund
    operator: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


class WalletTopUp(Base):
    """One purchase of a package: what it credited (a snapshot of the package) and what its refund took."""

    __tablename__ = "wallet_topups"
    __table_args__ = (Index("ix_wallet_topups_customer", "customer_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    package_id: Mapped[int] = mapped_column(BigInteger)  # packages are deleted for real; the snapshot stays
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    pay_fen: Mapped[int] = mapped_column(Money)
    bonus_fen: Mapped[int] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16))  # pending | credited | cancelled | refunded
    refunded_fen: Mapped[int] = mapped_column(Money, default=0)  # sent back through the gateway
    bonus_taken_fen: Mapped[int] = mapped_column(Money, default=0)
    created_at: Mapped[datetime]
    credited_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]


class WalletSettings(Base):
    """The merchant's 储值 settings, one row (id 1)."""

    __tablename__ = "wallet_settings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bonus_first: Mapped[bool] = mapped_column(default=False)  # spend 赠送 before 本金 (default: 本金 first)
    updated_at: Mapped[datetime]

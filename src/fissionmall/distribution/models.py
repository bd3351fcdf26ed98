"""Distribution tables. Commissions are a ledger: rows are inserted, never updated; balances are sums."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class DistributionConfig(Base):
    """One row (id 1): the shop's distribution settings as validated JSON (schemas.ConfigIn)."""

    __tablename__ = "distribution_config"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None]


class Distributor(Base):
    __tablename__ = "distributors"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected | disabled
    share_code: Mapped[str] = mapped_column(String(16), unique=True)
    # Bumped by every withdrawal: the UPDATE takes this row's lock, so balance checks queue per distributor.
    withdraw_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None]


class Binding(Base):
    """Who brought a shopper: the current binding (one per shopper) with where it came from."""

    __tablename__ = "distribution_bindings"
    __table_args__ = (Index("ix_distribution_bindings_distributor", "distributor_customer_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    distributor_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    origin: Mapped[str] = mapped_column(String(16))  # registration | share_link
    ref: Mapped[str] = mapped_column(String(16))
    bound_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    times_rebound: Mapped[int] = mapped_column(default=0)


class ShareVisit(Base):
    __tablename__ = "distribution_visits"
    __table_args__ = (Index("ix_distribution_visits_distributor", "distributor_customer_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    distributor_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    product_id: Mapped[int | None] = mapped_column(BigInteger)
    visitor_customer_id: Mapped[int | None] = mapped_column(BigInteger)
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime]


class DistributionOrder(Base):
    """An order that pays commission: who earns, the goods amount it brought (GMV), and its settlement state."""

    __tablename__ = "distribution_orders"
    __table_args__ = (
        Index("ix_distribution_orders_l1", "level1_customer_id", "id"),
        Index("ix_distribution_orders_due", "status", "matures_at"),
        Index("ix_distribution_orders_paid", "paid_at"),  # the dashboard's range of distributor orders
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    level1_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    level2_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    source: Mapped[str] = mapped_column(String(32))
    # How the buyer came to level 1: registration | share_link (the binding's origin) | self (self-purchase).
    bind_origin: Mapped[str] = mapped_column(String(16), default="")
    goods_fen: Mapped[int] = mapped_column(Money)
    commission_fen: Mapped[int] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16))  # frozen | matured | void
    paid_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    matures_at: Mapped[datetime | None]


class Commission(Base):
    """A ledger entry. `bucket` is frozen | available | withdrawing | withdrawn; `amount_fen` is signed.

    Kinds: accrue (+frozen), mature_out/mature_in (frozen → available), reverse (a line refund, from the
    bucket the money is in), void (cancelled before settlement), withdraw_hold (available → withdrawing),
    withdraw_paid (withdrawing → withdrawn), withdraw_return (withdrawing → available).
    """

    __tablename__ = "distribution_commissions"
    __table_args__ = (
        UniqueConstraint("order_line_id", "level", "kind", "ref_key"),
        UniqueConstraint("withdrawal_id", "kind", "bucket"),
        Index("ix_distribution_commissions_owner", "distributor_customer_id", "bucket"),
        Index("ix_distribution_commissions_order", "order_id"),
        Index("ix_distribution_commissions_created", "created_at"),  # the dashboard's range of entries
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    distributor_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    order_line_id: Mapped[int | None] = mapped_column(BigInteger)
    withdrawal_id: Mapped[int | None] = mapped_column(BigInteger)
    level: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    bucket: Mapped[str] = mapped_column(String(12))
    amount_fen: Mapped[int] = mapped_column(Money)
    base_fen: Mapped[int] = mapped_column(Money, default=0)
    qty: Mapped[int] = mapped_column(default=0)  # units concerned: the line's on accrue, the refunded on reverse
    rate_bp: Mapped[int | None]
    ref_key: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime]


class Withdrawal(Base):
    __tablename__ = "distribution_withdrawals"
    __table_args__ = (Index("ix_distribution_withdrawals_status", "status", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    distributor_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Money)
    fee_fen: Mapped[int] = mapped_column(Money)
    net_fen: Mapped[int] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16))
    transfer_id: Mapped[str | None] = mapped_column(String(64))
    failure: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None]
    paid_at: Mapped[datetime | None]
    # The payee's real name, which WeChat requires for a transfer of 2,000 元 or more: sealed
    # (wechat/vault.py), kept only until the payout ends.
    real_name_enc: Mapped[str | None] = mapped_column(String(255))


class Settlement(Base):
    __tablename__ = "distribution_settlements"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM
    orders_matured: Mapped[int] = mapped_column(default=0)
    matured_fen: Mapped[int] = mapped_column(Money, default=0)
    ran_at: Mapped[datetime]


class Statement(Base):
    """A distributor's monthly statement, written by the settlement of that period."""

    __tablename__ = "distribution_statements"
    __table_args__ = (UniqueConstraint("distributor_customer_id", "period"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("distribution_settlements.id"), index=True)
    distributor_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    period: Mapped[str] = mapped_column(String(7))
    # commission earned on orders paid in the period (net of its reversals)
    accrued_fen: Mapped[int] = mapped_column(Money)
    matured_fen: Mapped[int] = mapped_column(Money)  # moved to available by this settlement
    reversed_fen: Mapped[int] = mapped_column(Money)  # taken back by refunds during the period
    available_fen: Mapped[int] = mapped_column(Money)  # the balance after the settlement
    created_at: Mapped[datetime]

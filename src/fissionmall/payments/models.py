from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_order", "order_id", "status"),
        # One open payment per order: a second one would be a second prepay the shopper could pay.
        Index(
            "uq_payments_open_order",
            "order_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    method: Mapped[str] = mapped_column(String(16))  # gateway | split (the rest of an order the wallet paid part of)
    gateway: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16))  # pending | succeeded | closed
    gateway_txn_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    # How a succeeded payment was funded, as the gateway reported it: the payer's own part and the
    # gateway coupons (WeChat Pay `promotion_detail[]`) that paid the rest. None: the gateway
    # did not say (the sandbox), so the payer paid `amount_fen`.
    payer_total_fen: Mapped[int | None] = mapped_column(BigInteger)
    promotion_detail: Mapped[list[Any] | None]

    @property
    def gateway_discount_fen(self) -> int:
        """What gateway coupons paid of this payment (0 without one)."""
        return 0 if self.payer_total_fen is None else self.amount_fen - self.payer_total_fen


class GatewayNotification(Base):
    """The notifications a gateway sent, verified or not: the console shows the failed ones.

    Refused ones are sampled (the first few per gateway, cause and hour; the rest are only counted in
    GatewayNotificationCount), so a flood of forged notifications cannot bury the real failures."""

    __tablename__ = "gateway_notifications"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # payment | refund | unknown
    reference: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))  # applied | duplicate | bad_signature | rejected
    detail: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime]


class GatewayNotificationCount(Base):
    """How many refused notifications of one gateway and cause arrived in one hour (kept or not)."""

    __tablename__ = "gateway_notification_counts"
    __table_args__ = (UniqueConstraint("gateway", "cause", "hour_start"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(32))
    hour_start: Mapped[datetime]
    received: Mapped[int] = mapped_column(BigInteger)
    last_at: Mapped[datetime]

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fissionmall.core.db import Base, BigId, Money


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer", "customer_id", "id"),
        Index("ix_orders_status", "status", "id"),
        CheckConstraint("refunded_fen <= paid_fen", name="refund_within_paid"),
        UniqueConstraint("source", "source_ref"),
        # The console's search (orders/tools.py): the consignee's phone (digits) and name, copied from
        # the address at creation, so a lookup is an index probe rather than a scan of the address JSON.
        Index("ix_orders_consignee_phone", "consignee_phone"),
        Index("ix_orders_consignee_name", "consignee_name"),
        Index("ix_orders_created", "created_at", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    no: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(20))
    # Which tool brought the order (normal, seckill, groupbuy, …) and with what attribution.
    source: Mapped[str] = mapped_column(String(32), default="normal")
    # The tool's own reference (a reservation, a group seat); unique per source, so a retried
    # creation from a queue can never make a second order.
    source_ref: Mapped[str | None] = mapped_column(String(64))
    attribution: Mapped[dict[str, Any]] = mapped_column(default=dict)
    goods_fen: Mapped[int] = mapped_column(Money)
    discount_fen: Mapped[int] = mapped_column(Money, default=0)
    shipping_fen: Mapped[int] = mapped_column(Money, default=0)
    payable_fen: Mapped[int] = mapped_column(Money)
    paid_fen: Mapped[int] = mapped_column(Money, default=0)
    refunded_fen: Mapped[int] = mapped_column(Money, default=0)
    steps: Mapped[list[Any]] = mapped_column(default=list)
    # What paid the order besides the gateway, gateway last (orders/tenders.py): [{tender, amount_fen,
    # refunded_fen, pending_fen}]. None: the gateway paid everything (no tender is read or written).
    tenders: Mapped[list[Any] | None]
    address: Mapped[dict[str, Any] | None]
    remark: Mapped[str] = mapped_column(String(200), default="")
    # The address's name and normalised phone, kept beside the JSON for searching (NULL: no address).
    consignee_name: Mapped[str | None] = mapped_column(String(64))
    consignee_phone: Mapped[str | None] = mapped_column(String(32))
    # 商家备注: the merchant's own note, never shown to the shopper.
    merchant_remark: Mapped[str | None] = mapped_column(String(500))
    carrier: Mapped[str | None] = mapped_column(String(32))
    tracking_no: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    pay_deadline: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.id", lazy="selectin")


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("refunded_qty + refund_pending_qty <= qty", name="refund_qty_within_qty"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    title: Mapped[str] = mapped_column(String(120))
    sku_name: Mapped[str] = mapped_column(String(64))
    image: Mapped[str | None] = mapped_column(String(500))
    unit_price_fen: Mapped[int] = mapped_column(Money)
    qty: Mapped[int]
    subtotal_fen: Mapped[int] = mapped_column(Money)
    discount_fen: Mapped[int] = mapped_column(Money, default=0)
    shipping_fen: Mapped[int] = mapped_column(Money, default=0)
    payable_fen: Mapped[int] = mapped_column(Money)
    refunded_qty: Mapped[int] = mapped_column(default=0)
    refund_pending_qty: Mapped[int] = mapped_column(default=0)
    refund_pending_fen: Mapped[int] = mapped_column(Money, default=0)
    refunded_fen: Mapped[int] = mapped_column(Money, default=0)
    sku_stock_taken: Mapped[bool] = mapped_column(default=True)  # False: the source holds the stock


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_status", "status", "id"), Index("ix_refunds_customer", "customer_id", "id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="after_sales")  # after_sales | late_payment | system
    # A system refund's idempotency key (e.g. "group-failed:12:345"): the same key never refunds twice.
    key: Mapped[str | None] = mapped_column(String(100), unique=True)
    amount_fen: Mapped[int] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(200))
    lines: Mapped[list[Any]]  # [{line_id, qty, amount_fen}]
    # The refund's split over the order's tenders, [{tender, amount_fen}]; None: all by the gateway.
    tender_parts: Mapped[list[Any] | None]
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    gateway_refund_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None]
    succeeded_at: Mapped[datetime | None]
    # After-sales (orders/aftersales.py): 仅退款 (refund_only) or 退货退款 (return), the reason picked from the
    # list, the shopper's photos, the part of amount_fen that is shipping, and a return's way back.
    service: Mapped[str] = mapped_column(String(16), default="refund_only")
    reason_code: Mapped[str] = mapped_column(String(16), default="other")
    images: Mapped[list[Any]] = mapped_column(default=list)
    shipping_fen: Mapped[int] = mapped_column(Money, default=0)
    return_address: Mapped[str | None] = mapped_column(String(200))
    return_carrier: Mapped[str | None] = mapped_column(String(32))
    return_tracking_no: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    return_shipped_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class RefundEntry(Base):
    """One step of a refund's negotiation history (协商记录), shown to the shopper and the merchant."""

    __tablename__ = "refund_entries"
    __table_args__ = (Index("ix_refund_entries_refund", "refund_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"))
    actor: Mapped[str] = mapped_column(String(16))  # shopper | merchant | system
    action: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(String(500), default="")
    images: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]


class OrderChange(Base):
    """A merchant's correction of an order, kept for good: 改价 (kind `price`: old and new payable) and
    修改地址 (kind `address`: the address before and after), with who, when and why."""

    __tablename__ = "order_changes"
    __table_args__ = (Index("ix_order_changes_order", "order_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(16))  # price | address
    admin_id: Mapped[int | None] = mapped_column(BigId)
    reason: Mapped[str] = mapped_column(String(200), default="")
    old_fen: Mapped[int | None] = mapped_column(Money)
    new_fen: Mapped[int | None] = mapped_column(Money)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]

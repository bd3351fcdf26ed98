"""What orders tells the other domains, through the outbox (core/events.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fissionmall.core.events import DomainEvent


@dataclass(frozen=True)
class OrderCreated(DomainEvent):
    order_id: int
    customer_id: int
    source: str
    payable_fen: int


@dataclass(frozen=True)
class PaidLine:
    line_id: int
    sku_id: int
    qty: int
    goods_payable_fen: int  # what the shopper paid for the goods of the line: the commission base


@dataclass(frozen=True)
class OrderPaid(DomainEvent):
    order_id: int
    customer_id: int
    source: str
    payment_id: int | None  # None: the order's tenders paid all of it, no payment was made
    paid_fen: int  # the order's payable: what the shopper paid by every tender
    attribution: dict[str, Any] = field(default_factory=dict)
    lines: tuple[PaidLine, ...] = ()
    # The rules that priced the order ("coupon:3", "promotion:12"): a subscriber that only cares about
    # its own rules is not even queued for orders without them.
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderCancelled(DomainEvent):
    order_id: int
    customer_id: int
    source: str
    reason: str
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderShipped(DomainEvent):
    order_id: int
    customer_id: int


@dataclass(frozen=True)
class OrderReceived(DomainEvent):
    order_id: int
    customer_id: int


@dataclass(frozen=True)
class OrderCompleted(DomainEvent):
    order_id: int
    customer_id: int
    source: str


@dataclass(frozen=True)
class RefundRequested(DomainEvent):
    refund_id: int
    order_id: int
    amount_fen: int


@dataclass(frozen=True)
class OrderLineRefunded(DomainEvent):
    order_id: int
    refund_id: int
    line_id: int
    qty: int
    amount_fen: int
    customer_id: int
    source: str


@dataclass(frozen=True)
class OrderRefunded(DomainEvent):
    order_id: int
    refund_id: int
    amount_fen: int
    kind: str


@dataclass(frozen=True)
class LatePaymentRefunded(DomainEvent):
    order_id: int
    refund_id: int
    amount_fen: int


def refs_of(steps: Any) -> tuple[str, ...]:
    """The distinct rule refs of an order's stored steps, sorted."""
    return tuple(sorted({str(st.get("ref")) for st in steps or () if st.get("ref")}))


def has_ref(prefix: str) -> Any:
    """A `jobs.on(..., when=…)` condition: the event's order was priced by a rule of `prefix`."""

    def when(payload: dict[str, Any]) -> bool:
        return any(str(r).split(":", 1)[0] == prefix for r in payload.get("refs") or ())

    return when

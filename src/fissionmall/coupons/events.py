"""What coupons tell the other domains (the dashboard), through the outbox (core/events.py)."""

from __future__ import annotations

from dataclasses import dataclass

from fissionmall.core.events import DomainEvent


@dataclass(frozen=True)
class CouponGranted(DomainEvent):
    """A coupon reached a shopper: `source` says how (claim: the shopper took it; operator, new_user …)."""

    coupon_id: int
    template_id: int
    customer_id: int
    source: str

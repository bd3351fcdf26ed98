"""What group buying tells the other domains (coupons, points, the dashboard), through the outbox."""

from __future__ import annotations

from dataclasses import dataclass

from fissionmall.core.events import DomainEvent


@dataclass(frozen=True)
class GroupOpened(DomainEvent):
    """The leader paid: the group shows and its clock runs."""

    group_id: int
    activity_id: int
    leader_id: int | None
    order_id: int
    size: int
    expires_at: str


@dataclass(frozen=True)
class GroupJoined(DomainEvent):
    """A shopper took a seat in someone's group (their order is placed; the seat is kept if it is paid)."""

    group_id: int
    activity_id: int
    customer_id: int
    order_id: int

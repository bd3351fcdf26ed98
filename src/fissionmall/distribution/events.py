"""What distribution tells the other domains (the dashboard), through the outbox (core/events.py)."""

from __future__ import annotations

from dataclasses import dataclass

from fissionmall.core.events import DomainEvent


@dataclass(frozen=True)
class DistributorApplied(DomainEvent):
    """A shopper applied to be a distributor (approved at once or queued for an operator)."""

    distributor_id: int
    customer_id: int
    status: str

"""What bargaining tells the other domains (the dashboard), through the outbox (core/events.py)."""

from __future__ import annotations

from dataclasses import dataclass

from fissionmall.core.events import DomainEvent


@dataclass(frozen=True)
class BargainStarted(DomainEvent):
    bargain_id: int
    activity_id: int
    customer_id: int
    start_fen: int
    target_fen: int
    helpers_needed: int


@dataclass(frozen=True)
class BargainHelped(DomainEvent):
    bargain_id: int
    activity_id: int
    helper_id: int
    cut_fen: int
    price_fen: int
    helps: int
    is_new_user: bool


@dataclass(frozen=True)
class BargainReached(DomainEvent):
    bargain_id: int
    activity_id: int
    customer_id: int
    price_fen: int
    helps: int
    new_helpers: int

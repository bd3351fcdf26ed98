"""What a tool asks checkout to sell: a typed plan, built in the tool's own service.

A tool (group buy, seckill, later bargaining) validates and reserves what it owns in the order's
transaction, builds a `Plan` and calls `checkout.service.place(plan=…)`, then links the new order to
its own rows itself. Checkout reads nothing back from the tool: no untyped parameters travel through it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlannedLine:
    sku_id: int
    qty: int
    activity_price_fen: int | None = None  # the tool's unit price, shown as the chain's "activity" step
    activity_label: str = ""  # e.g. "秒杀价", "拼团价"
    take_sku_stock: bool = True  # False when the tool holds stock of its own (seckill pool, group stock)


@dataclass(frozen=True)
class Plan:
    lines: tuple[PlannedLine, ...]
    source: str = "normal"  # the order source whose hooks orders runs later (cancelled, paid, can_ship…)
    source_ref: str | None = None  # unique per source: a reservation id makes creation idempotent
    pay_minutes: int | None = None  # the tool's own unpaid-cancel window
    allows_coupons: bool = True
    attribution: Mapping[str, Any] = field(default_factory=dict)


def normal_plan(items: Sequence[tuple[int, int]]) -> Plan:
    """A plain catalogue purchase of (sku_id, qty) pairs."""
    return Plan(lines=tuple(PlannedLine(sku_id=sku_id, qty=qty) for sku_id, qty in items))

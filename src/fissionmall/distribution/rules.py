"""Distribution (分销) decisions, pure: rates, the commission split and cap, binding, reversals, periods.

No I/O here: the service feeds in plain values (the config as a dict, order lines) and writes what
these functions decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fissionmall.core.money import BP, apply_bp, split

MAX_LEVELS = 2  # a hard limit: deeper chains are treated as pyramid selling (传销) by law
MAX_CAP_BP = 3000  # 30%: also WeChat profit-sharing's default ceiling
BIND_MODES = ("first", "registration_only", "latest")
APPROVALS = ("auto", "manual", "everyone")
ACTIVITY_SOURCES = ("groupbuy", "seckill", "bargain")

# Withdrawal state machine: a transition is a compare-and-set on `status`.
WITHDRAWAL_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"paying", "rejected"}),  # waiting for an operator
    "held": frozenset({"paying", "rejected"}),  # held by the risk layer: a reviewer releases or voids it
    "paying": frozenset({"paid", "failed"}),  # approved: the transfer job runs
    "paid": frozenset(),
    "failed": frozenset(),  # the money went back to available
    "rejected": frozenset(),  # the money went back to available
}

DISTRIBUTOR_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"approved", "rejected"}),
    "rejected": frozenset({"pending", "approved"}),
    "approved": frozenset({"disabled"}),
    "disabled": frozenset({"approved"}),
}


def sources_of(table: Mapping[str, frozenset[str]], target: str) -> list[str]:
    return [s for s, targets in table.items() if target in targets]


@dataclass(frozen=True)
class LineRates:
    """The commission terms of one line: per level a rate (bp of the paid amount) or a fixed fen per unit."""

    level1_rate_bp: int = 0
    level2_rate_bp: int = 0
    level1_fixed_fen: int | None = None
    level2_fixed_fen: int | None = None


@dataclass(frozen=True)
class LineIn:
    line_id: int
    product_id: int
    sku_id: int
    qty: int
    goods_payable_fen: int  # after every discount, without shipping


@dataclass(frozen=True)
class Share:
    line_id: int
    level: int
    amount_fen: int
    base_fen: int
    rate_bp: int | None  # None when the line pays a fixed amount


def rates_for(cfg: Mapping[str, Any], *, source: str, product_id: int, sku_id: int) -> LineRates | None:
    """The terms for one line, or None when this line earns nothing.

    Precedence: an activity source's own setting (groupbuy / seckill / bargain: its rates, or None = no
    commission at all) > a SKU override > a product override > the shop's rates.
    """
    source_rates: Mapping[str, Any] = cfg.get("source_rates") or {}
    if source in source_rates:
        sr = source_rates[source]
        if sr is None:
            return None
        return LineRates(sr.get("level1_rate_bp", 0), sr.get("level2_rate_bp", 0))
    overrides: Sequence[Mapping[str, Any]] = cfg.get("overrides") or []
    chosen = next((o for o in overrides if o.get("sku_id") == sku_id), None)
    if chosen is None:
        chosen = next((o for o in overrides if o.get("product_id") == product_id and not o.get("sku_id")), None)
    if chosen is not None:
        return LineRates(
            level1_rate_bp=chosen.get("level1_rate_bp") or 0,
            level2_rate_bp=chosen.get("level2_rate_bp") or 0,
            level1_fixed_fen=chosen.get("level1_fixed_fen"),
            level2_fixed_fen=chosen.get("level2_fixed_fen"),
        )
    return LineRates(cfg.get("level1_rate_bp", 0), cfg.get("level2_rate_bp", 0))


def _one(base: int, qty: int, rate_bp: int, fixed_fen: int | None) -> tuple[int, int | None]:
    if fixed_fen is not None:
        return min(fixed_fen * qty, base), None
    return apply_bp(base, rate_bp), rate_bp


def order_cap(paid_goods_fen: int, cap_bp: int) -> int:
    """The most an order may pay out in total; rounded down so it is never above cap_bp."""
    return paid_goods_fen * cap_bp // BP


def commissions(
    lines: Sequence[LineIn],
    rates: Mapping[int, LineRates | None],
    *,
    levels: int,
    has_level2: bool,
    cap_bp: int,
) -> list[Share]:
    """Per line and level, what each distributor earns on the line's paid goods amount.

    Rates apply to `goods_payable_fen` (after every discount, never on shipping). When the total would pass
    the order cap, the cap is split over the parts in proportion (largest remainder): each part only shrinks,
    and the parts sum to the cap exactly.
    """
    parts: list[Share] = []
    for ln in lines:
        r = rates.get(ln.line_id)
        if r is None or ln.goods_payable_fen <= 0:
            continue
        a1, bp1 = _one(ln.goods_payable_fen, ln.qty, r.level1_rate_bp, r.level1_fixed_fen)
        parts.append(Share(ln.line_id, 1, a1, ln.goods_payable_fen, bp1))
        if levels >= 2 and has_level2:
            a2, bp2 = _one(ln.goods_payable_fen, ln.qty, r.level2_rate_bp, r.level2_fixed_fen)
            parts.append(Share(ln.line_id, 2, a2, ln.goods_payable_fen, bp2))
    cap = order_cap(sum(ln.goods_payable_fen for ln in lines), cap_bp)
    total = sum(p.amount_fen for p in parts)
    if total > cap:
        scaled = split(cap, [p.amount_fen for p in parts])
        parts = [Share(p.line_id, p.level, a, p.base_fen, p.rate_bp) for p, a in zip(parts, scaled, strict=True)]
    return [p for p in parts if p.amount_fen > 0]


BindOrigin = Literal["registration", "share_link"]
BindDecision = Literal["bind", "rebind", "keep"]


def bind_decision(mode: str, *, origin: BindOrigin, current: int | None, expired: bool, target: int) -> BindDecision:
    """Whether a valid share code binds the shopper: by the configured mode.

    first: the first binding wins until it expires; registration_only: only a new shopper's registration
    binds (an expired binding is not replaced either); latest: the newest share link wins.
    """
    if current == target and not expired:
        return "keep"
    if mode == "registration_only":
        return "bind" if origin == "registration" and current is None else "keep"
    if current is None:
        return "bind"
    if mode == "latest" or expired:
        return "rebind"
    return "keep"


def reversal_fen(
    *, accrued_fen: int, line_qty: int, refunded_before_qty: int, refund_qty: int, reversed_fen: int
) -> int:
    """What a line refund takes back from one level's commission.

    Cumulative by units: once R of the line's Q units are refunded, accrued × R / Q is reversed in total (a
    full refund reverses exactly everything accrued), minus what earlier refunds of the line already took.
    """
    refunded = refunded_before_qty + refund_qty
    if line_qty <= 0 or refunded >= line_qty:
        target = accrued_fen
    else:
        target = (accrued_fen * refunded + line_qty // 2) // line_qty
    return max(0, min(accrued_fen, target) - reversed_fen)


def withdraw_fee(amount_fen: int, fee_bp: int) -> int:
    return apply_bp(amount_fen, fee_bp)


def period_of(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


def period_end(period: str, tz: ZoneInfo) -> datetime:
    """The first instant of the month after `period` (YYYY-MM), in the shop's time zone."""
    year, month = (int(x) for x in period.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=tz)


def next_period(period: str) -> str:
    year, month = (int(x) for x in period.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def matures_at(completed_at: datetime, frozen_days: int) -> datetime:
    return completed_at + timedelta(days=frozen_days)

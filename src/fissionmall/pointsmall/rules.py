"""积分商城's pure rules: whether an item is live, its state as the console shows it, what a redemption
costs, and how much a shopper may still take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fissionmall.core.money import yuan
from fissionmall.pointsmall.errors import PointsMallError

KINDS = ("product", "coupon")
SOURCE = "points_mall"  # the order source of a product redemption
LEDGER_KIND = "redeem"  # the points ledger's entry kind of a redemption's spend
LEDGER_BACK = "redeem_back"  # … and of the points it gives back (a cancelled or refunded order)


@dataclass(frozen=True)
class Window:
    active: bool
    closed: bool
    starts_at: datetime | None
    ends_at: datetime | None


def refusal(w: Window, now: datetime) -> PointsMallError | None:
    """Why the item cannot be redeemed at `now` (None: it can, stock and limits aside)."""
    if w.closed or not w.active:
        return PointsMallError.MALL_ITEM_NOT_FOUND
    if w.starts_at is not None and now < w.starts_at:
        return PointsMallError.MALL_NOT_STARTED
    if w.ends_at is not None and w.ends_at <= now:
        return PointsMallError.MALL_ENDED
    return None


def is_live(w: Window, now: datetime) -> bool:
    """Whether the shop lists the item now."""
    return refusal(w, now) is None


def state(w: Window, now: datetime, units_left: int) -> str:
    """The item's state in the console's words."""
    if w.closed:
        return "已结束"
    if not w.active:
        return "已停用"
    if w.starts_at is not None and now < w.starts_at:
        return "未开始"
    if w.ends_at is not None and w.ends_at <= now:
        return "已结束"
    return "兑换中" if units_left > 0 else "已兑完"


def left_for(limit: int, used: int) -> int | None:
    """What a shopper may still redeem of an item (None: no per-user limit)."""
    return None if limit == 0 else max(0, limit - used)


def price_text(points: int, cash_fen: int) -> str:
    """The item's price as the shop writes it: 300积分, or 300积分+¥9.90."""
    if not cash_fen:
        return f"{points}积分"
    return f"{points}积分+¥{yuan(cash_fen)}"

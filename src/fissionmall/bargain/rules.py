"""Bargaining (砍价) decisions: pure, no I/O.

A bargain starts at the activity's start price and needs `helpers` friends; each help cuts a random
amount so that the target (floor) price is reached exactly on the last help: never before it, never
past it, never a cut of zero or less, each cut within [min_cut, max_cut]. That holds because the
bounds are checked once at save (`config_refusal`: helpers × min ≤ start − target ≤ helpers × max),
and every cut is drawn from the range that keeps the rest reachable (`cut_range`): after a cut the
remainder R′ with k′ helps left still satisfies k′ × min ≤ R′ ≤ k′ × max. A cut is reproducible from
the bargain's seed and the help's index.

States: `active` (friends may help) → `reached` (at the target) → `ordered` (an order waits for payment)
→ `bought`; `expired` at the deadline when nothing was bought. An unpaid order that is cancelled puts
the bargain back (`active` or `reached`), or `expired` if its time is up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from fissionmall.bargain.errors import BargainError
from fissionmall.core.money import yuan

MAX_HELPERS = 100
BOOST_MAX_BP = 50_000  # a new shopper's cut at most 5 × the drawn one (then clamped into the range)

TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"reached", "ordered", "expired"}),
    "reached": frozenset({"ordered", "expired"}),
    "ordered": frozenset({"bought", "active", "reached", "expired"}),
    "bought": frozenset(),
    "expired": frozenset(),
}
STATUSES = tuple(TRANSITIONS)
STATUS_ZH = {"active": "砍价中", "reached": "已砍到底价", "ordered": "待支付", "bought": "已购买", "expired": "已过期"}
HELPABLE = frozenset({"active"})
ORDERABLE = frozenset({"active", "reached"})


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


@dataclass(frozen=True)
class Bounds:
    """The per-help cut bounds in force: [lo, hi] fen, lo ≥ 1."""

    lo: int
    hi: int


def bounds(total_fen: int, min_cut: int | None, max_cut: int | None) -> Bounds:
    """The bounds of a configuration: 1 fen when no minimum is set, the whole discount when no maximum."""
    return Bounds(lo=1 if min_cut is None else min_cut, hi=total_fen if max_cut is None else max_cut)


def config_refusal(
    *, start_fen: int, target_fen: int, helpers: int, min_cut: int | None, max_cut: int | None
) -> BargainError | None:
    """Why a configuration cannot reach the target in exactly `helpers` helps within its bounds, or None."""
    if not 1 <= helpers <= MAX_HELPERS:
        return BargainError.HELPERS_OUT_OF_RANGE
    if target_fen >= start_fen:
        return BargainError.TARGET_NOT_BELOW_START
    if (min_cut is not None and min_cut <= 0) or (max_cut is not None and max_cut <= 0):
        return BargainError.CUT_BOUNDS_INVALID
    if min_cut is not None and max_cut is not None and min_cut > max_cut:
        return BargainError.CUT_BOUNDS_INVALID
    total = start_fen - target_fen
    b = bounds(total, min_cut, max_cut)
    if helpers * b.hi < total:
        return BargainError.CUT_BOUNDS_UNREACHABLE
    if helpers * b.lo > total:
        return BargainError.CUT_BOUNDS_TOO_LARGE
    return None


def refusal_text(
    code: BargainError, *, start_fen: int, target_fen: int, helpers: int, min_cut: int | None, max_cut: int | None
) -> str:
    """The refusal in the merchant's words, with the figures that make it so."""
    total = start_fen - target_fen
    if code == BargainError.CUT_BOUNDS_UNREACHABLE and max_cut is not None:
        return (
            f"{helpers} 人每人最多砍 ¥{yuan(max_cut)}，合计 ¥{yuan(helpers * max_cut)}，"
            f"不够砍掉 ¥{yuan(total)}：请调高每刀上限或增加助力人数"
        )
    if code == BargainError.CUT_BOUNDS_TOO_LARGE:
        lo = 1 if min_cut is None else min_cut
        return (
            f"{helpers} 人每人至少砍 ¥{yuan(lo)}，合计 ¥{yuan(helpers * lo)}，"
            f"超过可砍的 ¥{yuan(total)}：请调低每刀下限或减少助力人数"
        )
    return code.text


def cut_range(remaining: int, helps_left: int, b: Bounds) -> tuple[int, int]:
    """The cuts that keep the rest reachable: after the cut, helps_left − 1 helps within b still sum to
    what remains. The last help's range is exactly the remainder."""
    if helps_left <= 1:
        return remaining, remaining
    low = max(b.lo, remaining - (helps_left - 1) * b.hi)
    high = min(b.hi, remaining - (helps_left - 1) * b.lo)
    return low, high


def next_cut(*, remaining: int, helps_left: int, b: Bounds, seed: int, index: int, boost_bp: int = 10_000) -> int:
    """The cut of help number `index` (0-based): random around the even share, drawn from the bargain's seed,
    a new shopper's boosted by `boost_bp`, always inside cut_range."""
    low, high = cut_range(remaining, helps_left, b)
    if low >= high:
        return low
    rng = random.Random(f"bargain:{seed}:{index}")
    mean = remaining // helps_left
    a, z = max(low, mean // 2), min(high, mean + mean // 2)
    cut = rng.randint(a, z) if a <= z else rng.randint(low, high)
    if boost_bp != 10_000:
        cut = cut * min(max(boost_bp, 0), BOOST_MAX_BP) // 10_000
    return min(max(cut, low), high)


def plan_cuts(
    *,
    start_fen: int,
    target_fen: int,
    helpers: int,
    min_cut: int | None,
    max_cut: int | None,
    seed: int,
    boosts: tuple[int, ...] = (),
) -> list[int]:
    """Every cut of a bargain from its seed (help i boosted by boosts[i] bp where given): the console's
    sample and the tests' oracle."""
    total = start_fen - target_fen
    b = bounds(total, min_cut, max_cut)
    cuts: list[int] = []
    remaining = total
    for i in range(helpers):
        boost = boosts[i] if i < len(boosts) else 10_000
        c = next_cut(remaining=remaining, helps_left=helpers - i, b=b, seed=seed, index=i, boost_bp=boost)
        cuts.append(c)
        remaining -= c
    return cuts


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime


def window_refusal(w: Window, now: datetime) -> BargainError | None:
    """Why an activity cannot be started from now, or None."""
    if now < w.starts_at:
        return BargainError.ACTIVITY_NOT_STARTED
    if now >= w.ends_at:
        return BargainError.ACTIVITY_ENDED
    return None


def help_refusal(*, status: str, expired: bool, own: bool) -> BargainError | None:
    """Why a friend cannot help this bargain now (before any risk or quota check), or None."""
    if own:
        return BargainError.SELF_HELP
    if status == "bought":
        return BargainError.BARGAIN_BOUGHT
    if status == "ordered":
        return BargainError.BARGAIN_ORDERED
    if status == "reached":
        return BargainError.BARGAIN_REACHED
    if status == "expired" or expired:
        return BargainError.BARGAIN_EXPIRED
    return None


def buy_refusal(*, status: str, expired: bool, price_fen: int, target_fen: int, buy_early: bool) -> BargainError | None:
    """Why the starter cannot order the bargain now, or None: at the target, or earlier at the current
    price where the activity allows it."""
    if status == "bought":
        return BargainError.BARGAIN_BOUGHT
    if status == "ordered":
        return BargainError.BARGAIN_ORDERED
    if status == "expired" or expired:
        return BargainError.BARGAIN_EXPIRED
    if price_fen > target_fen and not buy_early:
        return BargainError.TARGET_NOT_REACHED
    return None


def after_cancel(*, price_fen: int, target_fen: int, expired: bool) -> str:
    """Where a bargain goes back to when its unpaid order is cancelled."""
    if expired:
        return "expired"
    return "reached" if price_fen <= target_fen else "active"


def progress_bp(*, start_fen: int, price_fen: int, target_fen: int) -> int:
    """How far the price has come down towards the target, in basis points (the share page's bar)."""
    total = start_fen - target_fen
    return 10_000 if total <= 0 else min(10_000, (start_fen - price_fen) * 10_000 // total)


def cost_per_new_shopper(*, discount_fen: int, new_helpers: int) -> int | None:
    """The discount given away over the new shoppers who helped (fen each, rounded down); None without any."""
    return None if new_helpers <= 0 else discount_fen // new_helpers


def minutes_text(minutes: int) -> str:
    """A time limit as a merchant reads it: 90 分钟, 24 小时, 2 天."""
    if minutes % 60:
        return f"{minutes} 分钟"
    hours = minutes // 60
    if hours % 24 or hours < 24:
        return f"{hours} 小时"
    return f"{hours // 24} 天"

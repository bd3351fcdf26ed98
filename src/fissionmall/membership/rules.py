"""The pure rules of member levels: which level a growth value reaches, the rolling window, the member
day, what a level gives in words, a member's unit price. No I/O."""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from fissionmall.core.money import BP, apply_bp

MAX_LEVELS = 10
MIN_DISCOUNT_BP = 1000  # 1折: a lower "discount" is a typo, not a level
MAX_MULTIPLIER_BP = 100_000  # 10 倍积分


@dataclass(frozen=True)
class LevelSpec:
    """A level as the rules see it (a saved row or a default not yet saved)."""

    name: str
    rank: int
    threshold_fen: int
    discount_bp: int = BP
    points_multiplier_bp: int = BP
    birthday_template_id: int | None = None
    free_shipping: bool = False
    priority_service: bool = False
    id: int | None = None


# The levels a shop starts with (saved on first use): 有赞's usual ladder, in growth value = fen of goods paid.
DEFAULT_LEVELS: tuple[LevelSpec, ...] = (
    LevelSpec("普通会员", 0, 0),
    LevelSpec("白银会员", 1, 100_000, points_multiplier_bp=12_000),  # 累计 1000 元
    LevelSpec("黄金会员", 2, 500_000, discount_bp=9000, points_multiplier_bp=15_000),  # 5000 元, 9折
    LevelSpec("钻石会员", 3, 2_000_000, discount_bp=8000, points_multiplier_bp=20_000, free_shipping=True),
)


def by_rank(levels: Sequence[LevelSpec]) -> list[LevelSpec]:
    return sorted(levels, key=lambda lv: lv.rank)


def level_for(levels: Sequence[LevelSpec], growth_fen: int) -> LevelSpec:
    """The highest level whose threshold the growth reaches; the base (lowest) level below every threshold."""
    ordered = by_rank(levels)
    got = ordered[0]
    for lv in ordered:
        if lv.threshold_fen <= growth_fen:
            got = lv
    return got


def next_level(levels: Sequence[LevelSpec], current: LevelSpec) -> LevelSpec | None:
    """The level right above `current`, None at the top."""
    return next((lv for lv in by_rank(levels) if lv.rank > current.rank), None)


def order_refusal(levels: Sequence[LevelSpec]) -> str | None:
    """Why a set of levels cannot stand (an error code's name), None when it can: ranks and thresholds
    unique, a higher rank needs a higher threshold, the base level at threshold 0."""
    ordered = by_rank(levels)
    if len({lv.rank for lv in ordered}) != len(ordered):
        return "LEVEL_RANK_TAKEN"
    if len({lv.threshold_fen for lv in ordered}) != len(ordered):
        return "LEVEL_THRESHOLD_TAKEN"
    if len({lv.name for lv in ordered}) != len(ordered):
        return "LEVEL_NAME_TAKEN"
    if len(ordered) > MAX_LEVELS:
        return "LEVEL_LIMIT_REACHED"
    for low, high in itertools.pairwise(ordered):
        if high.threshold_fen <= low.threshold_fen:
            return "LEVEL_ORDER_INVALID"
    return None


def benefit_refusal(lv: LevelSpec, *, base: bool) -> str | None:
    """Why a level's benefits cannot be saved, None when they can."""
    if not MIN_DISCOUNT_BP <= lv.discount_bp <= BP:
        return "LEVEL_DISCOUNT_OUT_OF_RANGE"
    if not BP <= lv.points_multiplier_bp <= MAX_MULTIPLIER_BP:
        return "LEVEL_MULTIPLIER_OUT_OF_RANGE"
    if base and (lv.threshold_fen != 0 or lv.discount_bp != BP or lv.free_shipping):
        return "BASE_LEVEL_FIXED"
    if not base and lv.threshold_fen <= 0:
        return "LEVEL_THRESHOLD_OUT_OF_RANGE"
    return None


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall time `months` calendar months earlier (the 31st falls back to the month's last day)."""
    y, m = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(y, m + 1)[1])
    return moment.replace(year=y, month=m + 1, day=day)


def is_member_day(day: date, *, enabled: bool, day_of_month: int | str) -> bool:
    """Whether a local date is the member day: the n-th of the month, or its last day ('last')."""
    if not enabled:
        return False
    if day_of_month == "last":
        return day.day == calendar.monthrange(day.year, day.month)[1]
    return day.day == day_of_month


def next_member_day(day: date, *, day_of_month: int | str) -> date:
    """The member day on or after a local date."""
    y, m = day.year, day.month
    for _ in range(3):
        last = calendar.monthrange(y, m)[1]
        d = date(y, m, last if day_of_month == "last" else int(day_of_month))
        if d >= day:
            return d
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    raise AssertionError("a member day within two months")


def birthday_on(birthday: date, day: date) -> bool:
    """Whether `day` is the birthday this year (29 February is celebrated on the 28th in other years)."""
    if (birthday.month, birthday.day) == (day.month, day.day):
        return True
    leap = calendar.isleap(day.year)
    return (birthday.month, birthday.day) == (2, 29) and not leap and (day.month, day.day) == (2, 28)


def zhe(bp: int) -> str:
    """9000 → '9折', 8500 → '8.5折', 10000 → '不打折'."""
    if bp >= BP:
        return "不打折"
    whole, part = divmod(bp, 1000)
    return f"{whole}.{str(part).rstrip('0')}折" if part else f"{whole}折"


def times(bp: int) -> str:
    """15000 → '1.5倍'."""
    whole, part = divmod(bp, BP)
    return f"{whole}.{str(part).zfill(4).rstrip('0')}倍" if part else f"{whole}倍"


def benefit_texts(lv: LevelSpec, *, base: bool) -> list[str]:
    """What a level gives, as the member centre lists it."""
    out = []
    if not base and lv.discount_bp < BP:
        out.append(f"全场商品{zhe(lv.discount_bp)}")
    if not base and lv.free_shipping:
        out.append("全场包邮")
    if lv.points_multiplier_bp > BP:
        out.append(f"购物积分{times(lv.points_multiplier_bp)}")
    if lv.birthday_template_id:
        out.append("生日礼券")
    if lv.priority_service:
        out.append("专属客服优先接待")
    return out


def member_unit_price(price_fen: int, *, rate_bp: int | None, day_bp: int | None) -> int:
    """One unit's price after the member rate and then the member day's rate, as the chain's member step
    charges it (pricing.rules.member_step without a limited-time discount)."""
    left = apply_bp(price_fen, min(rate_bp, BP)) if rate_bp is not None else price_fen
    return apply_bp(left, min(day_bp, BP)) if day_bp is not None else left

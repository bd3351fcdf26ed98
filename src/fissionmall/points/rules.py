"""Points' pure rules: what points are worth, what an order earns, the sign-in streak's bonus, expiry dates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fissionmall.core.money import split

BP = 10_000


def value_fen(points: int, *, points_per_yuan: int) -> int:
    """What `points` pay, in fen (100 points = 1 元 at the default rate); exact for multiples of the unit."""
    return points * 100 // points_per_yuan


def unit_is_exact(*, unit: int, points_per_yuan: int) -> bool:
    """Whether every multiple of the unit is worth whole fen (so a spend never rounds)."""
    return (unit * 100) % points_per_yuan == 0


def usable_points(*, balance: int, cap_fen: int, unit: int, points_per_yuan: int) -> int:
    """The most points an order may take: whole units, within the balance and the cap's value."""
    by_cap = cap_fen * points_per_yuan // 100
    most = min(max(balance, 0), by_cap)
    return most - most % unit if unit > 0 else 0


def earned(*, paid_fen: int, per_yuan: int, multipliers_bp: Sequence[int]) -> int:
    """floor(paid yuan × rate × Π multipliers / 10000ⁿ): the points an order earns, in one rounding."""
    num = paid_fen * per_yuan
    den = 100
    for m in multipliers_bp:
        num *= max(m, 0)
        den *= BP
    return num // den


def per_line(total: int, weights: Sequence[int]) -> list[int]:
    """`total` points over lines in proportion to `weights` (largest remainder: they sum to `total`)."""
    if total <= 0 or not weights or sum(weights) <= 0:
        return [0] * len(weights)
    return split(total, list(weights))


def share_of(points: int, *, units: int, of_units: int) -> int:
    """The points `units` of `of_units` carry, cumulatively floored: returning 1 unit, then the rest, sums exactly."""
    if of_units <= 0:
        return 0
    return points * min(units, of_units) // of_units


def streak_bonus(streak: int, table: Sequence[tuple[int, int]]) -> int:
    """The bonus a day of a `streak` pays: the points of the highest threshold reached (every day from then on).

    The table's points never fall as the day grows (validated), so a day's bonus never falls as the streak
    grows: breaking a streak and starting again can only pay less than keeping it, never more."""
    bonus = 0
    for day, pts in sorted(table):
        if streak >= day:
            bonus = pts
    return bonus


def local_day(at: datetime, tz: ZoneInfo) -> date:
    """The shop's calendar day of an instant."""
    return at.astimezone(tz).date()


def year_end_after_next(at: datetime, tz: ZoneInfo) -> datetime:
    """When points earned at `at` expire: the end of the next year, shop time (earned in 2026 → end of 2027)."""
    y = at.astimezone(tz).year
    return datetime.combine(date(y + 2, 1, 1), time(0), tz)


def month_days(year: int, month: int) -> list[date]:
    """Every day of a month."""
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return [first + timedelta(days=i) for i in range((nxt - first).days)]

"""付费会员's pure rules: when a month's grant falls due, what a renewal extends from, the cooling-off
window, what a refund pays back, and the benefit lines the shop shows. No I/O."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from fissionmall.pricing.rules import short_yuan

BP = 10_000


def add_months(at: datetime, months: int, zone: tzinfo) -> datetime:
    """`at` plus whole calendar months on the shop's wall clock (Jan 31 + 1 → Feb 28/29), as UTC-aware."""
    local = at.astimezone(zone)
    total = local.month - 1 + months
    year, month = local.year + total // 12, total % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(at.tzinfo)


def renewal_start(*, now: datetime, until: datetime | None) -> datetime:
    """A purchase's period starts at the later of now and the current expiry: a renewal while active
    extends it; a lapsed membership starts again from now, never from its past expiry (CRMEB did)."""
    return until if until is not None and until > now else now


def is_active(until: datetime | None, at: datetime) -> bool:
    """Benefits hold up to the second: active at until − 1 s, over at until."""
    return until is not None and at < until


def refund_deadline(paid_at: datetime, cooling_days: int) -> datetime:
    """The end of the 无理由退款期 (exclusive): `cooling_days` days after the payment."""
    return paid_at + timedelta(days=cooling_days)


def in_cooling_off(paid_at: datetime | None, cooling_days: int, now: datetime) -> bool:
    """Whether a refund may still be asked for (0 days: never)."""
    return paid_at is not None and cooling_days > 0 and now < refund_deadline(paid_at, cooling_days)


def refund_amount(price_fen: int, used_values: Iterable[int]) -> int:
    """The price less what the coupons the member already used were worth (never below 0)."""
    return max(0, price_fen - sum(max(0, v) for v in used_values))


def zhe_text(discount_bp: int) -> str:
    """9500 → '9.5折', 9000 → '9折' (a rate finer than 0.01折 reads 折扣, as pricing's rows do)."""
    return f"{short_yuan(discount_bp // 10)}折" if discount_bp % 10 == 0 else "折扣"


def benefits(
    *, discount_bp: int, grant_count: int, coupon_headline: str | None, days: int, cooling_days: int, has_prices: bool
) -> list[str]:
    """The plan's benefits as the shop lists them, in Chinese."""
    out = []
    if discount_bp < BP:
        out.append(f"全场商品{zhe_text(discount_bp)}")
    if grant_count > 0 and coupon_headline:
        out.append(f"每月赠送{grant_count}张{coupon_headline}")
    if has_prices:
        out.append("专享会员价与会员专享商品")
    out.append(f"有效期{days}天，到期可续费")
    if cooling_days > 0:
        out.append(f"开通{cooling_days}天内可无理由退款")
    return out

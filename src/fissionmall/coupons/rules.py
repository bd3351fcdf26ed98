"""Coupon decisions with no I/O: template sanity, validity windows, coupon → pricing spec."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fissionmall.core.errors import AppError
from fissionmall.coupons.errors import CouponsError
from fissionmall.pricing.errors import PricingError
from fissionmall.pricing.rules import CouponSpec, Scope

KINDS = ("amount", "percent")
SCOPES = ("all", "products", "categories")
ISSUE_MODES = ("claim", "new_user", "operator")
STATUSES = ("active", "paused")


def check_template(t: dict[str, Any], *, now: datetime | None = None) -> None:
    """Refuse a template that cannot work: raises AppError with a stable code.

    With `now`, a fixed window that has already ended is refused too (nobody could use such a coupon);
    an edit passes it only when it moves the end, so an old template's other fields stay editable."""
    if t["kind"] == "amount":
        if t.get("amount_fen", 0) <= 0:
            raise AppError(CouponsError.COUPON_AMOUNT_REQUIRED, status=422)
        if t.get("threshold_fen", 0) and t["amount_fen"] > t["threshold_fen"]:
            raise AppError(PricingError.THRESHOLD_BELOW_DISCOUNT, status=422)
    else:
        if not 0 < t.get("percent_bp", 0) < 10_000:
            raise AppError(CouponsError.COUPON_PERCENT_INVALID, status=422)
    if t.get("scope_kind", "all") != "all" and not t.get("scope_ids"):
        raise AppError(PricingError.SCOPE_IDS_REQUIRED, status=422)
    has_window = t.get("valid_until") is not None
    if has_window == (t.get("valid_days") is not None):
        raise AppError(CouponsError.VALIDITY_INVALID, status=422)
    if has_window and t.get("valid_from") and t["valid_from"] >= t["valid_until"]:
        raise AppError(CouponsError.VALIDITY_REVERSED, status=422)
    if has_window and now is not None and t["valid_until"] <= now:
        raise AppError(CouponsError.VALIDITY_ENDED, status=422)
    if t.get("claim_from") and t.get("claim_until") and t["claim_from"] >= t["claim_until"]:
        raise AppError(CouponsError.CLAIM_WINDOW_INVALID, status=422)


def window(
    *, valid_from: datetime | None, valid_until: datetime | None, valid_days: int | None, now: datetime
) -> tuple[datetime, datetime]:
    """A claimed coupon's validity: the template's fixed window, or N days from the claim."""
    if valid_until is not None:
        return (valid_from or now), valid_until
    return now, now + timedelta(days=valid_days or 0)


def claim_refusal(t: Any, now: datetime) -> CouponsError | None:
    """Why a template cannot be claimed in the coupon centre now (a code), or None."""
    if t.status != "active" or t.issue_mode != "claim":
        return CouponsError.COUPON_NOT_CLAIMABLE
    if t.claim_from is not None and now < t.claim_from:
        return CouponsError.CLAIM_NOT_STARTED
    if t.claim_until is not None and now >= t.claim_until:
        return CouponsError.CLAIM_ENDED
    if t.valid_until is not None and now >= t.valid_until:
        return CouponsError.CLAIM_ENDED
    if t.total is not None and t.issued >= t.total:
        return CouponsError.COUPON_SOLD_OUT
    return None


def spec(coupon_id: int, t: Any) -> CouponSpec:
    return CouponSpec(
        coupon_id=coupon_id,
        name=t.name,
        kind=t.kind,
        threshold_fen=t.threshold_fen,
        amount_fen=t.amount_fen,
        percent_bp=t.percent_bp,
        max_discount_fen=t.max_discount_fen,
        scope=Scope(t.scope_kind, frozenset(int(i) for i in t.scope_ids or ()), bool(t.scope_exclude)),
        once_per_order=bool(t.once_per_order),
    )


def headline(t: Any) -> str:
    """'满100减20', '无门槛减5元', '满200元享9折 最多减30元': how a template reads on a card."""
    from fissionmall.pricing.rules import short_yuan

    if t.kind == "amount":
        off = f"减{short_yuan(t.amount_fen)}元"
    else:
        rate = 10_000 - t.percent_bp
        off = f"{short_yuan(rate // 10)}折" if rate % 10 == 0 else "折扣"
        if t.max_discount_fen:
            off += f" 最多减{short_yuan(t.max_discount_fen)}元"
    if not t.threshold_fen:
        return "无门槛" + off
    # '满199减30元' reads at once; '满1998.5折' would not: a rate after a threshold gets 元 and 享 between.
    return f"满{short_yuan(t.threshold_fen)}" + (off if t.kind == "amount" else f"元享{off}")

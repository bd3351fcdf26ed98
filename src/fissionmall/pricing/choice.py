"""The best coupon: the chain run once up to the coupon step, then once more per usable coupon (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from fissionmall.pricing.rules import (
    CHAIN,
    CartLine,
    CouponSpec,
    PricingContext,
    Quote,
    StepFn,
    _quote,
    _run,
    _start,
    coupon_applicable,
    coupon_step,
)


@dataclass(frozen=True)
class CouponChoice:
    quote: Quote  # priced with `chosen` (or with no coupon)
    chosen: CouponSpec | None
    usable: tuple[tuple[CouponSpec, int], ...]  # (coupon, what it saves), best first
    unusable: tuple[tuple[CouponSpec, str], ...]  # (coupon, why not)


def best_coupon(
    cart: Sequence[CartLine],
    ctx: PricingContext,
    coupons: Sequence[CouponSpec],
    chain: Sequence[StepFn] | None = None,
) -> CouponChoice:
    """The coupon that makes the order cheapest (ties: the earlier in `coupons`, which callers sort by
    expiry), each other usable one with its saving, and each unusable one with its reason. The steps
    before `coupon_step` run once; only the rest runs again per coupon."""
    chain = list(chain if chain is not None else CHAIN)
    at = chain.index(coupon_step)
    before, after = chain[:at], chain[at:]
    base_ctx = replace(ctx, coupon=None)
    head, head_steps = _run(_start(cart), base_ctx, before)
    plain_lines, plain_tail = _run(head, base_ctx, after)
    plain = _quote(plain_lines, head_steps + plain_tail)
    usable: list[tuple[CouponSpec, int, Quote]] = []
    unusable: list[tuple[CouponSpec, str]] = []
    for c in coupons:
        _, _, refusal = coupon_applicable(head, c)
        if refusal is not None:
            unusable.append((c, refusal.text))
            continue
        cctx = replace(ctx, coupon=c)
        lines, tail = _run(head, cctx, after)
        q = _quote(lines, head_steps + tail)
        saving = plain.payable_fen - q.payable_fen
        if saving <= 0:
            unusable.append((c, "本单用券不再优惠"))
            continue
        usable.append((c, saving, q))
    order = sorted(range(len(usable)), key=lambda i: (-usable[i][1], i))
    ranked = [usable[i] for i in order]
    if not ranked:
        return CouponChoice(plain, None, (), tuple(unusable))
    return CouponChoice(ranked[0][2], ranked[0][0], tuple((c, s) for c, s, _ in ranked), tuple(unusable))

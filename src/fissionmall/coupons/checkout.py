"""What coupons add to checkout: the shopper's coupons, the coupon step, the best pick, the lock.

A preview lists the shopper's usable coupons and prices the best one in (unless one is chosen, or the
shopper chose none); an order takes only the chosen one, `available → locked` in the order's own
transaction, so two orders racing for one coupon cannot both win. A cancelled order gives it back in
the cancelling transaction; OrderPaid marks it used (coupons/service.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.checkout.contributions import POSITIONS, Ask, Chain, Contribution, Decision, register
from fissionmall.core import clock
from fissionmall.core.errors import AppError, Conflict, NotFound
from fissionmall.coupons import rules, service
from fissionmall.coupons.errors import CouponsError
from fissionmall.coupons.models import Coupon, CouponTemplate
from fissionmall.orders.models import Order
from fissionmall.pricing.choice import CouponChoice, best_coupon
from fissionmall.pricing.errors import PricingError
from fissionmall.pricing.rules import CartLine, PricingContext, Quote, coupon_step, price

Held = tuple[Coupon, CouponTemplate]


@dataclass(frozen=True)
class Loaded:
    chosen: Held | None = None
    mine: list[Held] = field(default_factory=list)  # the shopper's usable coupons (previews only)


def _coupon_dict(c: Coupon, t: CouponTemplate, **extra: Any) -> dict[str, Any]:
    return {
        "id": c.id,
        "template_id": t.id,
        "name": t.name,
        "headline": rules.headline(t),
        "valid_until": c.valid_until,
        **extra,
    }


async def _usable(s: AsyncSession, customer_id: int) -> list[Held]:
    now = clock.now()
    rows = await s.execute(
        select(Coupon, CouponTemplate)
        .join(CouponTemplate, Coupon.template_id == CouponTemplate.id)
        .where(Coupon.customer_id == customer_id, Coupon.status == "available", Coupon.valid_until > now)
        .order_by(Coupon.valid_until, Coupon.id)  # the soonest to expire wins a tie
        .limit(200)
    )
    return [(c, t) for c, t in rows.all()]


async def _chosen(s: AsyncSession, coupon_id: int, customer_id: int | None) -> Held:
    row = (
        await s.execute(
            select(Coupon, CouponTemplate)
            .join(CouponTemplate, Coupon.template_id == CouponTemplate.id)
            .where(Coupon.id == coupon_id)
        )
    ).first()
    # Someone else's coupon reads exactly like a missing one.
    if row is None or (customer_id is not None and row[0].customer_id != customer_id):
        raise NotFound(CouponsError.COUPON_NOT_FOUND)
    c, t = row
    now = clock.now()
    if c.status in ("locked", "used"):
        raise Conflict(CouponsError.COUPON_USED, coupon_status=c.status)
    if c.status == "expired" or c.valid_until <= now:
        raise Conflict(CouponsError.COUPON_EXPIRED)
    if c.valid_from > now:
        raise Conflict(CouponsError.COUPON_NOT_STARTED)
    return c, t


async def load(s: AsyncSession, ask: Ask) -> Loaded:
    chosen = None
    if ask.coupon_id is not None:
        if not ask.plan.allows_coupons:
            raise AppError(PricingError.COUPON_NOT_APPLICABLE)
        chosen = await _chosen(s, ask.coupon_id, ask.customer_id)
    # Only a preview lists the shopper's coupons; an order takes the chosen one or none.
    mine = await _usable(s, ask.customer_id) if not ask.placing and ask.customer_id is not None else []
    return Loaded(chosen=chosen, mine=mine)


def _lists(info: dict[str, Any], choice: CouponChoice, mine: list[Held]) -> None:
    by_id = {c.id: (c, t) for c, t in mine}
    info["coupons_available"] = [
        _coupon_dict(*by_id[sp.coupon_id], discount_fen=saving) for sp, saving in choice.usable
    ]
    info["coupons_unavailable"] = [_coupon_dict(*by_id[sp.coupon_id], reason=why) for sp, why in choice.unusable]


def decide(part: Loaded, cart: Sequence[CartLine], ctx: PricingContext, chain: Chain, ask: Ask) -> Decision:
    """The chosen coupon (refused with its reason when it does not apply), or in a preview the best one;
    what checkout shows about coupons: `coupon`, `coupons_available`, `coupons_unavailable[{id, reason}]`."""
    info: dict[str, Any] = {"coupon": None, "coupons_available": [], "coupons_unavailable": []}
    listing = not ask.placing and ask.customer_id is not None
    if part.chosen is not None:
        c, t = part.chosen
        cctx = replace(ctx, coupon=rules.spec(c.id, t))
        q = price(cart, cctx, chain)
        code = q.coupon_refusal_code
        if code is not None:
            # The chain's code decides (and its status); its sentence ("还差12元可用") is the message.
            raise AppError(PricingError(code), q.coupon_refusal or "")
        info["coupon"] = _coupon_dict(c, t, discount_fen=q.coupon_fen)
        if listing:
            _lists(info, best_coupon(cart, ctx, [rules.spec(x.id, xt) for x, xt in part.mine], chain), part.mine)
        return Decision(ctx=cctx, info=info, quote=q)
    if not listing:
        return Decision(info=info)
    if not ask.plan.allows_coupons:
        info["coupons_unavailable"] = [_coupon_dict(c, t, reason="活动商品不可用券") for c, t in part.mine]
        return Decision(info=info)
    choice = best_coupon(cart, ctx, [rules.spec(c.id, t) for c, t in part.mine], chain)
    _lists(info, choice, part.mine)
    if not ask.choose_coupon or choice.chosen is None:
        return Decision(info=info)
    c, t = next((c, t) for c, t in part.mine if c.id == choice.chosen.coupon_id)
    info["coupon"] = _coupon_dict(c, t, discount_fen=choice.quote.coupon_fen)
    return Decision(ctx=replace(ctx, coupon=choice.chosen), info=info, quote=choice.quote)


async def hold(s: AsyncSession, order: Order, q: Quote, part: Loaded, ask: Ask) -> None:
    if part.chosen is not None:
        await service.lock(s, coupon_id=part.chosen[0].id, customer_id=order.customer_id, order_id=order.id)


async def cancelled(s: AsyncSession, order: Order) -> None:
    await service.release(s, order_id=order.id)


CONTRIBUTION = register(
    Contribution(
        name="coupons",
        refs=("coupon",),
        load=load,
        steps=((POSITIONS["coupon"], coupon_step),),
        decide=decide,
        hold=hold,
        cancelled=cancelled,
    )
)

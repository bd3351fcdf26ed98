"""What promotions add to checkout: the live rules, their steps, and the gift stock an order takes.

Tiered prices and 满减/满折/满赠 are promotions' own steps; limited-time discounts feed checkout's
member step (the better of member price and limited-time discount) and free-shipping rules its
shipping step, through the context. A gift line draws on the promotion's own gift stock, reserved in
the order's transaction and given back in the cancelling one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.checkout.contributions import POSITIONS, Ask, Contribution, register
from fissionmall.checkout.service import cart_line
from fissionmall.orders.models import Order
from fissionmall.pricing.rules import CartLine, PricingContext, Quote, reduction_step, tiered_step
from fissionmall.promotions import rules, service


async def load(s: AsyncSession, ask: Ask) -> dict[str, Any] | None:
    promos = await service.live(s)
    if not promos:
        return None
    gift_ids = sorted({p.gift_sku_id for p in promos if p.kind == "gift" and p.gift_sku_id})
    gifts: dict[int, CartLine] = {}
    if gift_ids:
        for sku_id, (sku, prod) in (await catalog.skus_for_sale(s, sku_ids=gift_ids, with_stock=False)).items():
            gifts[sku_id] = cart_line(sku, prod, qty=1)
    return rules.to_context_parts(promos, gifts)


def context(part: dict[str, Any] | None, ctx: PricingContext, ask: Ask) -> PricingContext:
    return ctx if part is None else replace(ctx, **part)


async def hold(s: AsyncSession, order: Order, q: Quote, part: Any, ask: Ask) -> None:
    for p in q.lines:
        if p.line.gift_of is not None:
            await service.reserve_gift(s, promotion_id=p.line.gift_of, qty=p.line.qty, order_id=order.id)


async def cancelled(s: AsyncSession, order: Order) -> None:
    await service.release_gifts(s, order_id=order.id)


CONTRIBUTION = register(
    Contribution(
        name="promotions",
        refs=("promotion",),
        load=load,
        context=context,
        steps=((POSITIONS["tiered"], tiered_step), (POSITIONS["reduction"], reduction_step)),
        hold=hold,
        cancelled=cancelled,
    )
)

"""付费会员's checkout contribution "vip": an active paid member gets the plan's rate (combined with any
other member rate by min()) and the SKUs' 会员价; anyone else buying a member-only product is refused
(MEMBER_ONLY) in the preview and the order alike. The chain's member step (pricing/rules.py) weighs
them against a limited-time discount; its rows carry ref "membership", so vip follows no order."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.checkout.contributions import Ask, Contribution, register
from fissionmall.core import clock
from fissionmall.core.errors import AppError
from fissionmall.pricing.rules import PricingContext
from fissionmall.vip import plans, service
from fissionmall.vip.errors import VipError

BP = 10_000


@dataclass(frozen=True)
class Member:
    rate_bp: int
    prices: dict[int, int] = field(default_factory=dict)


async def load(s: AsyncSession, ask: Ask) -> Member | None:
    b = await plans.book(s)
    sku_ids = [p.sku_id for p in ask.plan.lines]
    got = None
    if ask.customer_id is not None:
        got = await service.member_plan(s, customer_id=ask.customer_id, at=clock.now())
    if got is None:
        if b.only:
            found = await catalog.skus_for_sale(s, sku_ids=sku_ids, with_stock=False)
            locked = sorted({sku.product_id for sku, _ in found.values() if sku.product_id in b.only})
            if locked:
                raise AppError(VipError.MEMBER_ONLY, product_id=locked[0])
        return None
    _, plan = got
    return Member(rate_bp=plan.discount_bp, prices={i: b.prices[i] for i in sku_ids if i in b.prices})


def context(part: Member | None, ctx: PricingContext, ask: Ask) -> PricingContext:
    if part is None:
        return ctx
    prices = dict(ctx.member_prices)
    for sku_id, fen in part.prices.items():
        prices[sku_id] = min(fen, prices.get(sku_id, fen))
    return replace(ctx, member_rate_bp=min(ctx.member_rate_bp or BP, part.rate_bp), member_prices=prices)


register(Contribution(name="vip", refs=("vip",), load=load, context=context))

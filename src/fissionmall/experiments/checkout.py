"""What experiments add to checkout: the shopper's arm decides which experiment promotions price.

Registered after promotions (imported here first), so its `context` sees the live promotions' rules and
removes those of the arms the shopper is not in; checkout prices, and the preview explains, exactly the
arm's plan. A cart that holds the experiment's product (any cart, for a shop-wide test) exposes the shopper
once: in the order's own transaction when placing, in a short transaction of its own for a preview (which
runs read-only), remembered per process so a shopper's next previews cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import fissionmall.promotions.checkout  # noqa: F401  (registers first: its rules are in the context we filter)
from fissionmall.catalog.models import Sku
from fissionmall.checkout.contributions import Ask, Contribution, register
from fissionmall.core import clock
from fissionmall.core.db import get_db
from fissionmall.experiments import service
from fissionmall.experiments.service import LiveExperiment
from fissionmall.pricing.rules import PricingContext

# (experiment, kept arm or 0, shopper): exposures (or a kept winner's coupons) this process knows are written
_seen: set[tuple[int, int, int]] = set()
_SEEN_MAX = 200_000


@dataclass(frozen=True)
class Part:
    hidden: frozenset[int]


async def _cart_products(s: AsyncSession, ask: Ask) -> set[int]:
    ids = [p.sku_id for p in ask.plan.lines]
    return set((await s.scalars(select(Sku.product_id).where(Sku.id.in_(ids)))).all()) if ids else set()


async def exposures_for(s: AsyncSession, *, live: list[LiveExperiment], ask: Ask) -> list[LiveExperiment]:
    """The experiments this cart exposes its shopper to (not yet known written in this process)."""
    if ask.customer_id is None:
        return []
    now = clock.now()
    todo = [e for e in live if (e.running(now) or e.kept) and _key(e, ask.customer_id) not in _seen]
    if any(e.product_id is not None for e in todo):
        products = await _cart_products(s, ask)
        todo = [e for e in todo if e.product_id is None or e.product_id in products]
    return todo


async def write_exposures(s: AsyncSession, *, todo: list[LiveExperiment], customer_id: int) -> None:
    """Record each exposure once (a no-op for one already written), then remember it."""
    for e in todo:
        await service.expose(s, experiment=e, customer_id=customer_id)
    if len(_seen) > _SEEN_MAX:
        _seen.clear()


def _key(e: LiveExperiment, customer_id: int) -> tuple[int, int, int]:
    return e.id, e.kept.id if e.kept else 0, customer_id


def _remember(todo: list[LiveExperiment], customer_id: int) -> None:
    _seen.update(_key(e, customer_id) for e in todo)


async def load(s: AsyncSession, ask: Ask) -> Part | None:
    live = await service.live(s)
    if not live:
        return None
    todo = await exposures_for(s, live=live, ask=ask)
    if todo and ask.customer_id is not None:
        if ask.placing:
            await write_exposures(s, todo=todo, customer_id=ask.customer_id)
        else:
            async with get_db().tx() as w:
                await write_exposures(w, todo=todo, customer_id=ask.customer_id)
            _remember(todo, ask.customer_id)
    hidden = await service.hidden_promotions(s, customer_id=ask.customer_id)
    return Part(hidden=hidden) if hidden else None


def context(part: Part | None, ctx: PricingContext, ask: Ask) -> PricingContext:
    if part is None:
        return ctx
    h = part.hidden
    return replace(
        ctx,
        tiered=tuple(r for r in ctx.tiered if r.rule_id not in h),
        limited=tuple(r for r in ctx.limited if r.rule_id not in h),
        reductions=tuple(r for r in ctx.reductions if r.rule_id not in h),
        gifts=tuple(r for r in ctx.gifts if r.rule_id not in h),
        free_shipping_rules=tuple(r for r in ctx.free_shipping_rules if r.rule_id not in h),
    )


def forget() -> None:
    """Forget the exposures this process remembers (a new database: the app's start, tests)."""
    _seen.clear()


CONTRIBUTION = register(Contribution(name="experiments", load=load, context=context))

__all__: list[Any] = ["CONTRIBUTION", "forget"]

"""What points add to checkout: the balance and rules, the usable maximum, the shopper's choice, the debit.

The body's `points` (whole multiples of the unit) reaches this contribution as `Ask.options["points"]`.
`decide` finds how much the chain lets points pay (the cap, after the coupon) and the balance allows, tells
the preview (`points` in the quote's extra: balance, usable maximum and its value, what is used), and
refuses a request that is not a whole unit or above the balance or the cap. The order's transaction debits
the points (`hold`, a guarded UPDATE: two orders racing for one balance never both win) and records each
line's share; a cancelled order gives them back; refunds give back the refunded units' share (earning.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.checkout.contributions import Ask, Chain, Contribution, Decision, register
from fissionmall.core import clock
from fissionmall.core.errors import AppError
from fissionmall.orders.models import Order
from fissionmall.points import ledger, rules
from fissionmall.points.errors import PointsError
from fissionmall.points.expiry import deadline_for
from fissionmall.points.models import OrderLinePoints
from fissionmall.points.schemas import RulesUpdate
from fissionmall.points.service import get_rules
from fissionmall.pricing.rules import CartLine, PricingContext, Quote, price

NAME = "points"
ALL_FEN = 10**12  # "as much as the chain allows": the cap decides


@dataclass(frozen=True)
class Loaded:
    rules: RulesUpdate
    balance: int
    wanted: int  # points the body asks for (0: none)


def wanted_points(ask: Ask) -> int:
    """The points a checkout body asks for (checkout puts them under the contribution's name)."""
    return int(((ask.options or {}).get(NAME) or {}).get("points") or 0)


async def load(s: AsyncSession, ask: Ask) -> Loaded | None:
    wanted = wanted_points(ask)
    r = await get_rules(s)
    if not r.enabled:
        if wanted:
            raise AppError(PointsError.POINTS_DISABLED)
        return None
    bal = await ledger.balance(s, customer_id=ask.customer_id) if ask.customer_id is not None else 0
    return Loaded(rules=r, balance=bal, wanted=wanted)


def context(part: Loaded | None, ctx: PricingContext, ask: Ask) -> PricingContext:
    if part is None:
        return ctx
    return replace(ctx, points_cap_bp=part.rules.spend_cap_bp)


def decide(part: Loaded | None, cart: Sequence[CartLine], ctx: PricingContext, chain: Chain, ask: Ask) -> Decision:
    """Tell the usable maximum; price in the points asked for, refused when not whole, above balance or cap."""
    if part is None:
        return Decision()
    r = part.rules
    probe = price(cart, replace(ctx, points_fen=ALL_FEN), chain)
    cap_fen = sum(p.points_fen for p in probe.lines)
    usable = rules.usable_points(
        balance=part.balance, cap_fen=cap_fen, unit=r.spend_unit, points_per_yuan=r.spend_points_per_yuan
    )
    info: dict[str, Any] = {
        "balance": max(part.balance, 0),
        "usable_max": usable,
        "usable_max_value_fen": rules.value_fen(usable, points_per_yuan=r.spend_points_per_yuan),
        "unit": r.spend_unit,
        "points_per_yuan": r.spend_points_per_yuan,
        "used": 0,
        "value_fen": 0,
    }
    n = part.wanted
    if not n:
        return Decision(info={"points": info})
    if n % r.spend_unit:
        raise AppError(PointsError.POINTS_NOT_WHOLE_UNIT, unit=r.spend_unit)
    if n > part.balance:
        raise AppError(PointsError.POINTS_ABOVE_BALANCE, balance=max(part.balance, 0))
    if n > usable:
        raise AppError(PointsError.POINTS_ABOVE_CAP, usable_max=usable)
    fen = rules.value_fen(n, points_per_yuan=r.spend_points_per_yuan)
    pctx = replace(ctx, points_fen=fen)
    q = price(cart, pctx, chain)
    info.update(used=n, value_fen=fen)
    return Decision(ctx=pctx, info={"points": info}, quote=q)


async def hold(s: AsyncSession, order: Order, q: Quote, part: Loaded | None, ask: Ask) -> None:
    """Debit the points in the order's transaction and record each line's share of them."""
    if part is None or not part.wanted:
        return
    n = part.wanted
    await ledger.spend(
        s, customer_id=order.customer_id, points=n, kind="spend", ref=f"order:{order.id}", note=f"订单 {order.no}"
    )
    priced = [p for p in q.lines if p.line.gift_of is None] + [p for p in q.lines if p.line.gift_of is not None]
    shares = rules.per_line(n, [p.points_fen for p in priced])
    for ln, pts in zip(order.lines, shares, strict=True):
        if pts:
            s.add(
                OrderLinePoints(
                    order_id=order.id,
                    line_id=ln.id,
                    customer_id=order.customer_id,
                    kind="spend",
                    qty=ln.qty,
                    points=pts,
                    settled_qty=0,
                )
            )
    await s.flush()


async def cancelled(s: AsyncSession, order: Order) -> None:
    """An unpaid order cancelled: every point it spent goes back, once."""
    rows = (
        await s.scalars(
            select(OrderLinePoints)
            .where(OrderLinePoints.order_id == order.id, OrderLinePoints.kind == "spend")
            .with_for_update()
        )
    ).all()
    back = 0
    for row in rows:
        back += row.points - rules.share_of(row.points, units=row.settled_qty, of_units=row.qty)
        row.settled_qty = row.qty
    if back > 0:
        await ledger.give_back(
            s,
            customer_id=order.customer_id,
            points=back,
            kind="spend_back",
            ref=f"order:{order.id}:cancel",
            note=f"订单 {order.no} 已取消",
            expires_at=await deadline_for(s, r=await get_rules(s), at=clock.now()),
        )


CONTRIBUTION = register(
    Contribution(name=NAME, refs=("points",), load=load, context=context, decide=decide, hold=hold, cancelled=cancelled)
)

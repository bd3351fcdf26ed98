"""Earning and taking back: points for paid orders (line by line), refunds, group leaders, reviews.

- Earned when paid (`OrderPaid`, once per order: the entry's ref is the order), on what the shopper paid
  for the goods (shipping and what points paid earn nothing): floor(paid yuan × rate × Π multipliers /
  10000ⁿ), split over the lines by what each paid, so a refund takes back exactly its units' points.
- Multipliers: `register_multiplier(fn)`, `fn(s, *, customer_id, at) -> bp` (membership's level and member
  day register one at merge); none registered is ×1.
- A refund (the orders' refund hook, in the refund's own transaction, once per refund) returns the refunded
  units' spent points and takes back their earned points: under the debt policy all of them, even when
  spent (the balance may go negative, and later earnings pay the debt first).
- Group leaders (`GroupLeaderRewarded`, once per group) and reviews (`grant_review`, once per review: for
  the reviews of issue #21 to call) earn the rules' points.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.core.events import on
from fissionmall.orders.events import OrderPaid
from fissionmall.orders.models import Order, OrderLine, Refund
from fissionmall.orders.sources import register_order_hooks
from fissionmall.points import ledger, rules
from fissionmall.points.expiry import deadline_for
from fissionmall.points.models import OrderLinePoints
from fissionmall.points.service import get_rules

Multiplier = Callable[..., Awaitable[int]]
_multipliers: list[Multiplier] = []


def register_multiplier(fn: Multiplier) -> Multiplier:
    """Add a points multiplier `fn(s, *, customer_id, at) -> bp` (10000 = ×1); they multiply together."""
    if fn not in _multipliers:
        _multipliers.append(fn)
    return fn


def unregister_multiplier(fn: Multiplier) -> None:
    """Tests only: remove a multiplier."""
    if fn in _multipliers:
        _multipliers.remove(fn)


async def multipliers(s: AsyncSession, *, customer_id: int, at: datetime) -> list[int]:
    """Every registered multiplier's bp for this shopper at this time."""
    return [int(await fn(s, customer_id=customer_id, at=at)) for fn in _multipliers]


async def earn_for_order(s: AsyncSession, *, order_id: int) -> int:
    """Grant a paid order's points once, line by line (units already refunded earn nothing); the points granted."""
    r = await get_rules(s)
    if not r.enabled or r.earn_per_yuan <= 0:
        return 0
    # The order's lock first (refunds take it too): a second delivery, or a refund, waits for this one.
    order = await s.scalar(select(Order).where(Order.id == order_id).with_for_update())
    if order is None or order.paid_at is None:
        return 0
    done = await s.scalar(
        select(OrderLinePoints.id).where(OrderLinePoints.order_id == order_id, OrderLinePoints.kind == "earn")
    )
    if done is not None:
        return 0  # delivered before (the unique keys on the lines and the entry would refuse it anyway)
    lines = list(
        (await s.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id))).all()
    )
    paid = [max(ln.subtotal_fen - ln.discount_fen, 0) for ln in lines]
    mult = await multipliers(s, customer_id=order.customer_id, at=order.paid_at)
    total = rules.earned(paid_fen=sum(paid), per_yuan=r.earn_per_yuan, multipliers_bp=mult)
    shares = rules.per_line(total, paid)
    net = 0
    for ln, pts in zip(lines, shares, strict=True):
        if not pts:
            continue
        row = OrderLinePoints(
            order_id=order.id,
            line_id=ln.id,
            customer_id=order.customer_id,
            kind="earn",
            qty=ln.qty,
            points=pts,
            settled_qty=ln.refunded_qty,
        )
        s.add(row)
        net += pts - rules.share_of(pts, units=ln.refunded_qty, of_units=ln.qty)
    await s.flush()
    if net > 0:
        await ledger.grant(
            s,
            customer_id=order.customer_id,
            points=net,
            kind="earn",
            ref=f"order:{order.id}",
            note=f"订单 {order.no}",
            expires_at=await deadline_for(s, r=r, at=clock.now()),
        )
    return net


@on(OrderPaid, "points.earn")
async def _on_paid(s: AsyncSession, ev: OrderPaid) -> None:
    await earn_for_order(s, order_id=ev.order_id)


def _settle_line(row: OrderLinePoints, *, more: int) -> int:
    """Settle `more` units of a line; the points those units carry (cumulatively floored, so the last closes it)."""
    new = min(row.settled_qty + more, row.qty)
    if new <= row.settled_qty:
        return 0
    pts = rules.share_of(row.points, units=new, of_units=row.qty) - rules.share_of(
        row.points, units=row.settled_qty, of_units=row.qty
    )
    row.settled_qty = new
    return pts


async def _on_refunded(s: AsyncSession, order: Order, refund: Refund) -> None:
    """A refund succeeded: its units' spent points come back, their earned points are taken back (debt policy)."""
    rows = (
        await s.scalars(select(OrderLinePoints).where(OrderLinePoints.order_id == order.id).with_for_update())
    ).all()
    if not rows:
        return
    units = {int(p["line_id"]): int(p["qty"]) for p in refund.lines or ()}
    back = taken = 0
    for row in rows:
        pts = _settle_line(row, more=units.get(row.line_id, 0))
        if row.kind == "spend":
            back += pts
        else:
            taken += pts
    await s.flush()
    if back:
        await ledger.give_back(
            s,
            customer_id=order.customer_id,
            points=back,
            kind="spend_back",
            ref=f"refund:{refund.id}",
            note=f"订单 {order.no} 退款",
            expires_at=await deadline_for(s, r=await get_rules(s), at=clock.now()),
        )
    if taken:
        await ledger.take_back(
            s,
            customer_id=order.customer_id,
            points=taken,
            kind="earn_back",
            ref=f"refund:{refund.id}",
            note=f"订单 {order.no} 退款",
            allow_debt=True,
        )


register_order_hooks(refunded=_on_refunded)


async def grant_review(s: AsyncSession, *, customer_id: int, review_id: int) -> int:
    """Points for a review, once per review (the reviews of issue #21 call this); the points granted."""
    r = await get_rules(s)
    if not r.enabled or r.review_points <= 0:
        return 0
    posted = await ledger.grant(
        s,
        customer_id=customer_id,
        points=r.review_points,
        kind="review",
        ref=f"review:{review_id}",
        note="评价奖励",
        expires_at=await deadline_for(s, r=r, at=clock.now()),
    )
    return posted.points


@jobs.on("GroupLeaderRewarded", "points.leader")
async def _on_leader(s: AsyncSession, job: Any) -> None:
    p = job.payload
    r = await get_rules(s)
    pts = int(p.get("points") or 0) or r.leader_points
    if not r.enabled or pts <= 0:
        return
    await ledger.grant(
        s,
        customer_id=int(p["leader_id"]),
        points=pts,
        kind="leader",
        ref=f"group:{p['group_id']}",
        note="拼团团长奖励",
        expires_at=await deadline_for(s, r=r, at=clock.now()),
    )

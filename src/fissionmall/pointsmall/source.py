"""The `points_mall` order source: a product redemption's order gives its units, the shopper's slots and
the points back when it is cancelled unpaid, and is marked paid with its payment; a refund gives back the
points of the refunded units (the units themselves stay sold: the goods went out). Registered at import."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock
from fissionmall.orders.models import Order, OrderLine, Refund
from fissionmall.orders.sources import SourceDefaults, register_order_hooks, register_source
from fissionmall.points import ledger
from fissionmall.pointsmall import rules
from fissionmall.pointsmall.models import Redemption
from fissionmall.pointsmall.redeem import give_slots, give_units, spend_ref


async def _move(s: AsyncSession, order_id: int, frm: tuple[str, ...], to: str) -> Redemption | None:
    """Compare-and-set the order's redemption from one of `frm` to `to`: the row when this call moved it."""
    r = await s.scalar(select(Redemption).where(Redemption.order_id == order_id))
    if r is None:
        return None
    res = await s.execute(
        update(Redemption)
        .where(Redemption.id == r.id, Redemption.status.in_(frm))
        .values(status=to, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return r if res.rowcount == 1 else None  # type: ignore[attr-defined]


async def release(s: AsyncSession, *, order_id: int) -> bool:
    """The unpaid order was cancelled: units, slots and points come back, once however often it is called."""
    r = await _move(s, order_id, ("ordered",), "cancelled")
    if r is None:
        return False
    await give_units(s, item_id=r.item_id, qty=r.qty)
    await give_slots(s, item_id=r.item_id, customer_id=r.customer_id, qty=r.qty)
    await ledger.give_back(
        s,
        customer_id=r.customer_id,
        points=r.points,
        kind=rules.LEDGER_BACK,
        ref=spend_ref(r.id),
        note="订单取消，积分退回",
    )
    return True


class PointsMallSource(SourceDefaults):
    """The `points_mall` order source: one line at the cash part, the item's own stock."""

    name = rules.SOURCE

    async def cancelled(self, s: AsyncSession, *, order: Order) -> None:
        """An unpaid order was cancelled: its units, the shopper's slots and the points come back."""
        await release(s, order_id=order.id)

    async def paid(self, s: AsyncSession, *, order: Order) -> None:
        """The cash part and shipping are paid: the redemption is paid."""
        await _move(s, order.id, ("ordered",), "paid")


async def _refunded(s: AsyncSession, order: Order, refund: Refund) -> None:
    """A refund of a redemption's order gives back the points of the units it refunds, once per refund."""
    if order.source != rules.SOURCE:
        return
    r = await s.scalar(select(Redemption).where(Redemption.order_id == order.id))
    if r is None or not r.qty:
        return
    goods = await s.scalar(select(OrderLine.id).where(OrderLine.order_id == order.id).order_by(OrderLine.id).limit(1))
    units = sum(int(x.get("qty") or 0) for x in refund.lines or [] if int(x["line_id"]) == goods)
    if not units:
        return
    points = r.points * min(units, r.qty) // r.qty
    if points:
        await ledger.give_back(
            s,
            customer_id=r.customer_id,
            points=points,
            kind=rules.LEDGER_BACK,
            ref=f"{spend_ref(r.id)}:refund:{refund.id}",
            note="兑换订单退款，积分退回",
        )
    left = await s.scalar(select(OrderLine.qty - OrderLine.refunded_qty).where(OrderLine.id == goods))
    if not left:
        await _move(s, order.id, ("paid",), "refunded")


register_source(PointsMallSource())
register_order_hooks(refunded=_refunded)

"""Virtual orders: something bought through the gateway that is not goods (a top-up, a paid membership).

A tool that sells such a thing (the wallet's 储值 packages, membership's 付费会员 plans) registers an
`OrderSource` under its own name and calls `place_virtual`: the order has no lines, no address and no
shipping, one `goods` step naming what was bought, and the same pay window, cashier, payment and
notification path as every other order. The source's `paid` hook, in the payment-confirming
transaction, grants what was bought and calls `complete` (paid → completed: nothing ships, and the
order leaves the merchant's 待发货 list at once).

A refund of a virtual order is the tool's decision, not an after-sales request: `refund_virtual`
sends a given amount (at most what is left of the payment) to the gateway as a `system` refund, once
per key, and the tool undoes its grant in the same transaction (the wallet takes back the unspent
principal and its bonus; membership ends the plan and takes back unused coupons).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock
from fissionmall.core.errors import Conflict
from fissionmall.orders import service as orders
from fissionmall.orders.errors import OrdersError
from fissionmall.orders.models import Order, Refund
from fissionmall.orders.refunds import send_to_gateway

VIRTUAL_STEP = "goods"


async def place_virtual(
    s: AsyncSession,
    *,
    customer_id: int,
    source: str,
    source_ref: str,
    title: str,
    amount_fen: int,
    pay_minutes: int = 30,
    attribution: dict[str, Any] | None = None,
) -> Order:
    """Write an unpaid virtual order for `amount_fen` (> 0), idempotent on (source, source_ref): the
    same reference returns the order it made first."""
    if amount_fen <= 0:
        raise ValueError("a virtual order sells something for more than 0")  # the tool validates first
    existing = await s.scalar(select(Order).where(Order.source == source, Order.source_ref == source_ref))
    if existing is not None:
        return existing
    now = clock.now()
    order = orders.new_order(
        now,
        customer_id=customer_id,
        source=source,
        source_ref=source_ref,
        attribution=dict(attribution or {}),
        goods_fen=amount_fen,
        discount_fen=0,
        shipping_fen=0,
        payable_fen=amount_fen,
        steps=[{"kind": VIRTUAL_STEP, "label": title[:64], "amount_fen": amount_fen, "ref": ""}],
        tenders=None,
        address=None,
        remark="",
        pay_deadline=now + timedelta(minutes=pay_minutes),
        lines=[],
    )
    return await orders.write_new_order(s, order=order)


def title_of(order: Order) -> str:
    """What a virtual order bought, as its goods step says (e.g. 储值500元送100元)."""
    for st in order.steps or ():
        if st.get("kind") == VIRTUAL_STEP:
            return str(st.get("label", ""))
    return ""


def is_virtual(order: Order) -> bool:
    """An order with no lines: a top-up or a membership, never goods."""
    return not order.lines


async def complete(s: AsyncSession, *, order: Order) -> bool:
    """paid → completed for a virtual order, from its source's `paid` hook (nothing ships)."""
    return await orders.transition(s, order_id=order.id, target="completed", completed_at=clock.now())


async def refund_virtual(s: AsyncSession, *, order_id: int, amount_fen: int, reason: str, key: str) -> Refund:
    """Refund `amount_fen` of a paid virtual order through the gateway, once per `key` (a second call
    returns the first refund). The caller locks the order first (`orders.lock_order`) and undoes its
    grant in this same transaction; the refund goes out after the commit (send_to_gateway's job)."""
    existing = await s.scalar(select(Refund).where(Refund.key == key))
    if existing is not None:
        return existing
    order = await orders.get_order(s, order_id=order_id)
    if order.lines or order.status not in ("paid", "completed"):
        raise Conflict(OrdersError.REFUND_NOT_ALLOWED, order_status=order.status)
    # What earlier refunds of it took or still may take (a failed one may be retried).
    held = await s.scalar(
        select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(
            Refund.order_id == order.id, Refund.status.in_(("processing", "succeeded", "failed"))
        )
    )
    left = order.paid_fen - int(held or 0)
    if amount_fen <= 0:
        raise Conflict(OrdersError.NOTHING_TO_REFUND)
    if amount_fen > left:
        raise Conflict(OrdersError.REFUND_EXCEEDS_PAID, left_fen=left)
    now = clock.now()
    refund = Refund(
        order_id=order.id,
        customer_id=order.customer_id,
        status="processing",
        kind="system",
        shipping_fen=0,
        key=key,
        amount_fen=amount_fen,
        reason=reason[:200],
        lines=[],
        tender_parts=None,
        created_at=now,
        decided_at=now,
    )
    s.add(refund)
    await s.flush()
    await send_to_gateway(s, refund_id=refund.id, after="processing")
    return refund


__all__ = ["complete", "is_virtual", "place_virtual", "refund_virtual", "title_of"]

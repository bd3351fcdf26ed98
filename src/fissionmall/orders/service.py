"""The order state machine (checkout/ prices and places orders; this writes them; refunds.py is after-sales).

Stock is taken in the same transaction that creates the order and given back
by the transaction that cancels it. Every transition is a compare-and-set
`UPDATE … WHERE status IN (…)`, so two racing transitions cannot both win.
Marketing tools hook in through their order source (orders/sources.py: hooks
that run inside these transactions) and the outbox events published here.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, raiseload
from sqlalchemy.orm.attributes import set_committed_value

from fissionmall.catalog import service as catalog
from fissionmall.core import clock, events, jobs
from fissionmall.core.db import keyset_page
from fissionmall.core.errors import AppError, Conflict, not_found
from fissionmall.core.sql import contains_text
from fissionmall.orders.errors import OrdersError
from fissionmall.orders.events import (
    OrderCancelled,
    OrderCompleted,
    OrderCreated,
    OrderPaid,
    OrderReceived,
    OrderShipped,
    PaidLine,
    refs_of,
)
from fissionmall.orders.models import Order, OrderLine
from fissionmall.orders.rules import (
    ORDER_TRANSITIONS,
    sources_of,
)
from fissionmall.orders.sources import get_source, order_hooks, ship_holds
from fissionmall.orders.tenders import entries, gateway_due
from fissionmall.pricing.rules import Quote
from fissionmall.settings import Settings, get_settings


def consignee_name(address: dict[str, Any] | None) -> str | None:
    """The searchable copy of an address's consignee (orders.consignee_name)."""
    return (str(address.get("name") or "")[:64] or None) if address else None


def consignee_phone(address: dict[str, Any] | None) -> str | None:
    """The searchable copy of an address's phone: its normalised digits (orders.consignee_phone)."""
    return (str(address.get("phone_normalized") or "")[:32] or None) if address else None


def order_no(now: datetime, zone: ZoneInfo) -> str:
    """The order number: the local time in the shop's zone (the date every page shows, so an order placed
    at 00:30 in Beijing reads as that day, not the UTC day before) and 8 random digits. The column is
    unique: two orders in one second share a number 1 time in 10^8, and then the second insert fails."""
    return now.astimezone(zone).strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"


async def insert_order(
    s: AsyncSession,
    *,
    customer_id: int,
    source: str,
    source_ref: str | None,
    attribution: dict[str, Any],
    quote: Quote,
    stock_taken: Sequence[bool],
    address: dict[str, Any],
    remark: str,
    pay_minutes: int,
    tenders: Sequence[tuple[str, int]] = (),
) -> Order:
    """Write a priced order (checkout calls this with its quote): the order and its lines in one flush,
    the unpaid-cancel timer and OrderCreated. `stock_taken[i]` says whether the i-th goods line draws on
    the SKU's stock (checkout takes it, last); lines past those are the promotions' gifts. `tenders`:
    (tender, fen) paid besides the gateway, which is asked for the rest (orders/tenders.py)."""
    now = clock.now()
    goods = [p for p in quote.lines if p.line.gift_of is None]
    gifts = [p for p in quote.lines if p.line.gift_of is not None]
    lines = [
        OrderLine(
            product_id=p.line.product_id,
            sku_id=p.line.sku_id,
            title=p.line.title,
            sku_name=(p.line.sku_name + ("（赠品）" if gift else ""))[:64],
            image=p.line.image,
            unit_price_fen=p.line.unit_price_fen,
            qty=p.line.qty,
            subtotal_fen=p.subtotal_fen,
            discount_fen=p.discount_fen,
            shipping_fen=p.shipping_fen,
            payable_fen=p.payable_fen,
            sku_stock_taken=taken,
            refunded_qty=0,
            refund_pending_qty=0,
            refunded_fen=0,
            refund_pending_fen=0,
        )
        for p, taken, gift in [
            *((g, t, False) for g, t in zip(goods, stock_taken, strict=True)),
            *((g, False, True) for g in gifts),
        ]
    ]
    order = new_order(
        now,
        customer_id=customer_id,
        source=source,
        source_ref=source_ref,
        attribution=attribution,
        goods_fen=quote.goods_fen,
        discount_fen=quote.discount_fen,
        shipping_fen=quote.shipping_fen,
        payable_fen=quote.payable_fen,
        steps=[{"kind": st.kind, "label": st.label, "amount_fen": st.amount_fen, "ref": st.ref} for st in quote.steps],
        tenders=entries(tenders, quote.payable_fen),
        address=address,
        consignee_name=consignee_name(address),
        consignee_phone=consignee_phone(address),
        remark=remark,
        pay_deadline=now + timedelta(minutes=pay_minutes),
        lines=lines,
    )
    return await write_new_order(s, order=order)


def new_order(now: datetime, *, customer_id: int, source: str, source_ref: str | None, **fields: Any) -> Order:
    """An unpaid order as every kind of order starts: its number, status and the zero money columns."""
    return Order(
        no=order_no(now, ZoneInfo(get_settings().timezone)),
        customer_id=customer_id,
        status="pending_payment",
        source=source,
        source_ref=source_ref,
        paid_fen=0,
        refunded_fen=0,
        created_at=now,
        **fields,
    )


async def write_new_order(s: AsyncSession, *, order: Order) -> Order:
    """Store a new order (with its lines, one flush), its unpaid-cancel timer and OrderCreated."""
    s.add(order)
    await s.flush()
    await jobs.schedule(
        s, "orders.auto_cancel", {"order_id": order.id}, due_at=order.pay_deadline, key=f"order-cancel:{order.id}"
    )
    await events.publish(
        s,
        OrderCreated(
            order_id=order.id, customer_id=order.customer_id, source=order.source, payable_fen=order.payable_fen
        ),
    )
    return order


async def get_order(s: AsyncSession, *, order_id: int, customer_id: int | None = None) -> Order:
    """An order; with `customer_id`, only if it is that shopper's (else not found, leaking nothing)."""
    q = select(Order).where(Order.id == order_id)
    if customer_id is not None:
        q = q.where(Order.customer_id == customer_id)
    order = await _one(s, q.execution_options(populate_existing=True))
    if order is None:
        raise not_found("order")
    return order


async def _one(s: AsyncSession, q: Any) -> Order | None:
    """An order and its lines in one statement (a join, not the relationship's second SELECT)."""
    res = await s.execute(q.options(joinedload(Order.lines)))
    return res.unique().scalar_one_or_none()


async def lock_order(s: AsyncSession, *, order_id: int, customer_id: int | None = None, lines: bool = True) -> Order:
    """`get_order` holding the order's row lock until the transaction ends (SQLite: the write lock is
    the transaction's already). Everything that moves an order's money, paying, confirming a payment,
    cancelling, takes this lock first, before any payment row, so no two of them can deadlock.
    `lines=False` skips loading the lines when the caller needs only the order's own row."""
    q = select(Order).where(Order.id == order_id)
    if customer_id is not None:
        q = q.where(Order.customer_id == customer_id)
    q = q.with_for_update(of=Order).execution_options(populate_existing=True)
    if lines:
        order = await _one(s, q)
    else:
        order = await s.scalar(q.options(raiseload(Order.lines)))
    if order is None:
        raise not_found("order")
    return order


async def list_orders(
    s: AsyncSession,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    q: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[Order], str | None]:
    """Orders newest first, one keyset page; `q` finds an order by number."""
    stmt = select(Order).order_by(Order.id.desc())
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if status:
        stmt = stmt.where(Order.status.in_(status.split(",")))
    if q:
        stmt = stmt.where(contains_text(Order.no, q.strip()))
    if before_id:
        stmt = stmt.where(Order.id < before_id)
    return await keyset_page(s, stmt, limit=limit)


async def count_by_status(s: AsyncSession) -> dict[str, int]:
    """Orders by status (the console's tab figures)."""
    rows = await s.execute(select(Order.status, func.count()).group_by(Order.status))
    return {st: int(n) for st, n in rows.all()}


async def transition(s: AsyncSession, *, order_id: int, target: str, **values: Any) -> bool:
    """Compare-and-set: move the order to `target` if it is in a state that may go there."""
    res = await s.execute(
        update(Order)
        .where(Order.id == order_id, Order.status.in_(sources_of(ORDER_TRANSITIONS, target)))
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]


def _refuse(order: Order, action: str) -> AppError:
    return Conflict(OrdersError.ORDER_STATE_INVALID, order_status=order.status)


async def cancel(s: AsyncSession, *, order_id: int, reason: str, customer_id: int | None = None) -> Order:
    """Cancel an unpaid order and give its stock back."""
    order = await lock_order(s, order_id=order_id, customer_id=customer_id)
    if not await transition(s, order_id=order.id, target="cancelled", cancelled_at=clock.now(), cancel_reason=reason):
        raise _refuse(order, "cancel")
    for line in order.lines:
        if line.sku_stock_taken:
            await catalog.unsell_stock(s, sku_id=line.sku_id, qty=line.qty)
    await get_source(order.source).cancelled(s, order=order)
    for hook in order_hooks("cancelled"):
        await hook(s, order)
    await events.publish(
        s,
        OrderCancelled(
            order_id=order.id,
            customer_id=order.customer_id,
            source=order.source,
            reason=reason,
            refs=refs_of(order.steps),
        ),
    )
    return await get_order(s, order_id=order.id)


async def mark_paid(s: AsyncSession, *, order: Order, amount_fen: int, payment_id: int | None) -> bool:
    """Called by payments once a payment is confirmed, with the order as `lock_order` returned it (the
    order's lock taken first, then the payment's), or by checkout with `payment_id` None when the
    order's tenders paid all of it. Runs the source's `paid` hook in this transaction, then publishes
    OrderPaid. `amount_fen` is what the gateway took: it must be the order's gateway due (its payable
    less what tenders paid); `paid_fen` becomes the payable, what the shopper paid by all tenders. False
    if the order can no longer be paid: cancelled, paid by another payment, or for another amount."""
    if amount_fen != gateway_due(order):
        return False
    now = clock.now()
    paid_fen = order.payable_fen
    if not await transition(s, order_id=order.id, target="paid", paid_fen=paid_fen, paid_at=now):
        return False
    # The row is locked and the transition just written: the loaded order needs only these values,
    # not a second read.
    for k, v in (("status", "paid"), ("paid_fen", paid_fen), ("paid_at", now)):
        set_committed_value(order, k, v)
    # The unpaid-cancel timer has nothing left to do: dropped now rather than claimed, run and found a
    # no-op by a worker when the pay window ends.
    await jobs.unschedule(s, f"order-cancel:{order.id}")
    # The tool's own state commits with the payment (a group opens the moment its leader's payment is
    # confirmed, not when a worker gets to OrderPaid); other domains follow from the event.
    await get_source(order.source).paid(s, order=order)
    for hook in order_hooks("paid"):
        await hook(s, order)
    await events.publish(
        s,
        OrderPaid(
            order_id=order.id,
            customer_id=order.customer_id,
            source=order.source,
            payment_id=payment_id,
            paid_fen=paid_fen,
            attribution=dict(order.attribution or {}),
            lines=tuple(
                PaidLine(
                    line_id=ln.id, sku_id=ln.sku_id, qty=ln.qty, goods_payable_fen=ln.payable_fen - ln.shipping_fen
                )
                for ln in order.lines
            ),
            refs=refs_of(order.steps),
        ),
    )
    return True


async def ship_hold(s: AsyncSession, *, order: Order) -> str | None:
    """Why a paid order may not ship yet, as its source's refusal code (GROUP_FORMING: a group still
    forming) or a registered hold's (ORDER_UNDER_REVIEW), or None. The console asks it to offer no ship
    form; ship() asks it to refuse."""
    if order.status != "paid":
        return None
    if (refusal := await get_source(order.source).can_ship(s, order=order)) is not None:
        return refusal
    for hold in ship_holds():
        if (refusal := await hold(s, order)) is not None:
            return refusal
    return None


async def ship(s: AsyncSession, *, order_id: int, carrier: str, tracking_no: str, settings: Settings) -> Order:
    """Ship a paid order and arm auto-receipt."""
    order = await get_order(s, order_id=order_id)
    if any(ln.refund_pending_qty for ln in order.lines):
        raise Conflict(OrdersError.REFUND_PENDING)
    refusal = await ship_hold(s, order=order)
    if refusal is not None:
        raise Conflict(refusal, order_status=order.status)
    now = clock.now()
    if not await transition(
        s, order_id=order.id, target="shipped", shipped_at=now, carrier=carrier, tracking_no=tracking_no
    ):
        raise _refuse(order, "ship")
    await jobs.schedule(
        s,
        "orders.auto_receive",
        {"order_id": order.id},
        due_at=now + timedelta(days=settings.auto_receive_days),
        key=f"order-receive:{order.id}",
    )
    await events.publish(s, OrderShipped(order_id=order.id, customer_id=order.customer_id))
    return await get_order(s, order_id=order.id)


async def receive(s: AsyncSession, *, order_id: int, settings: Settings, customer_id: int | None = None) -> Order:
    """Confirm receipt (by the shopper, or automatically); the after-sales window starts now."""
    order = await get_order(s, order_id=order_id, customer_id=customer_id)
    now = clock.now()
    if not await transition(s, order_id=order.id, target="received", received_at=now):
        raise _refuse(order, "confirm receipt of")
    await jobs.schedule(
        s,
        "orders.complete",
        {"order_id": order.id},
        due_at=now + timedelta(days=settings.after_sales_days),
        key=f"order-complete:{order.id}",
    )
    await events.publish(s, OrderReceived(order_id=order.id, customer_id=order.customer_id))
    return await get_order(s, order_id=order.id)


# ---- timers ------------------------------------------------------------------------------------


@jobs.handler("orders.auto_cancel")
async def _auto_cancel(s: AsyncSession, job: jobs.Job) -> None:
    order = await s.get(Order, job.payload["order_id"])
    if order is not None and order.status == "pending_payment":
        try:
            await cancel(s, order_id=order.id, reason="timeout")
        except Conflict:
            pass  # paid at the last moment: nothing to cancel


def _settings() -> Settings:
    return get_settings()


@jobs.handler("orders.auto_receive")
async def _auto_receive(s: AsyncSession, job: jobs.Job) -> None:
    order = await s.get(Order, job.payload["order_id"])
    if order is not None and order.status == "shipped":
        try:
            await receive(s, order_id=order.id, settings=_settings())
        except Conflict:
            pass


@jobs.handler("orders.complete")
async def _complete(s: AsyncSession, job: jobs.Job) -> None:
    order_id = job.payload["order_id"]
    order = await get_order(s, order_id=order_id)
    if order.status != "received":
        return
    if any(ln.refund_pending_qty for ln in order.lines):
        # An open refund keeps after-sales open; look again in a day.
        await jobs.schedule(s, "orders.complete", {"order_id": order_id}, due_at=clock.now() + timedelta(days=1))
        return
    if await transition(s, order_id=order_id, target="completed", completed_at=clock.now()):
        await events.publish(s, OrderCompleted(order_id=order_id, customer_id=order.customer_id, source=order.source))

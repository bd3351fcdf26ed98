"""The order state machine and after-sales (checkout/ prices and places orders; this writes them).

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
    LatePaymentRefunded,
    OrderCancelled,
    OrderCompleted,
    OrderCreated,
    OrderLineRefunded,
    OrderPaid,
    OrderReceived,
    OrderRefunded,
    OrderShipped,
    PaidLine,
    RefundRequested,
    refs_of,
)
from fissionmall.orders.models import Order, OrderLine, Refund
from fissionmall.orders.rules import (
    ORDER_TRANSITIONS,
    REFUNDABLE,
    refund_transition_sources,
    sources_of,
)
from fissionmall.orders.schemas import RefundLineCreate
from fissionmall.orders.sources import get_source, order_hooks, refund_hooks
from fissionmall.orders.tenders import entries, gateway_due, given_back, left_of, released, reserved, split_refund
from fissionmall.pricing.rules import Quote, refund_amount
from fissionmall.settings import Settings, get_settings


def _order_no(now: datetime) -> str:
    return now.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"


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
    order = Order(
        no=_order_no(now),
        customer_id=customer_id,
        status="pending_payment",
        source=source,
        source_ref=source_ref,
        attribution=attribution,
        goods_fen=quote.goods_fen,
        discount_fen=quote.discount_fen,
        shipping_fen=quote.shipping_fen,
        payable_fen=quote.payable_fen,
        paid_fen=0,
        refunded_fen=0,
        steps=[{"kind": st.kind, "label": st.label, "amount_fen": st.amount_fen, "ref": st.ref} for st in quote.steps],
        tenders=entries(tenders, quote.payable_fen),
        address=address,
        remark=remark,
        created_at=now,
        pay_deadline=now + timedelta(minutes=pay_minutes),
        lines=lines,
    )
    s.add(order)
    await s.flush()
    await jobs.schedule(
        s, "orders.auto_cancel", {"order_id": order.id}, due_at=order.pay_deadline, key=f"order-cancel:{order.id}"
    )
    await events.publish(
        s,
        OrderCreated(order_id=order.id, customer_id=customer_id, source=source, payable_fen=order.payable_fen),
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


async def _transition(s: AsyncSession, order_id: int, target: str, **values: Any) -> bool:
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
    if not await _transition(s, order.id, "cancelled", cancelled_at=clock.now(), cancel_reason=reason):
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
    if not await _transition(s, order.id, "paid", paid_fen=paid_fen, paid_at=now):
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


async def ship(s: AsyncSession, *, order_id: int, carrier: str, tracking_no: str, settings: Settings) -> Order:
    """Ship a paid order and arm auto-receipt."""
    order = await get_order(s, order_id=order_id)
    if any(ln.refund_pending_qty for ln in order.lines):
        raise Conflict(OrdersError.REFUND_PENDING)
    if order.status == "paid":
        refusal = await get_source(order.source).can_ship(s, order=order)  # e.g. a group still forming
        if refusal is not None:
            raise Conflict(refusal, order_status=order.status)
    now = clock.now()
    if not await _transition(s, order.id, "shipped", shipped_at=now, carrier=carrier, tracking_no=tracking_no):
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
    if not await _transition(s, order.id, "received", received_at=now):
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


# ---- after-sales -------------------------------------------------------------------------------


def _refundable(order: Order) -> None:
    if order.status not in REFUNDABLE:
        raise Conflict(OrdersError.REFUND_NOT_ALLOWED, order_status=order.status)


def _all_left(order: Order) -> dict[int, int]:
    left = {ln.id: ln.qty - ln.refunded_qty - ln.refund_pending_qty for ln in order.lines}
    return {k: v for k, v in left.items() if v > 0}


async def _reserve_units(s: AsyncSession, order: Order, wanted: dict[int, int]) -> tuple[list[dict[str, int]], int]:
    """Mark units of lines as being refunded and work out their exact amounts."""
    if not wanted:
        raise Conflict(OrdersError.NOTHING_TO_REFUND)
    parts, total = [], 0
    # Lock the lines in id order and read them fresh: two concurrent requests then see each other's
    # reservations, so no unit is refunded twice and the last unit closes the line to the fen.
    locked = {
        ln.id: ln
        for ln in (
            await s.scalars(
                select(OrderLine)
                .where(OrderLine.id.in_(wanted))
                .order_by(OrderLine.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).all()
    }
    for line_id, qty in sorted(wanted.items()):
        ln = locked[line_id]
        ahead = ln.refunded_qty + ln.refund_pending_qty
        if ahead + qty > ln.qty:
            raise Conflict(OrdersError.REFUND_QTY_EXCEEDED, line_id=line_id)
        if ahead + qty == ln.qty:
            amount = ln.payable_fen - ln.refunded_fen - ln.refund_pending_fen
        else:
            amount = refund_amount(ln.payable_fen, ln.qty, ahead, qty)
        ln.refund_pending_qty += qty
        ln.refund_pending_fen += amount
        parts.append({"line_id": line_id, "qty": qty, "amount_fen": amount})
        total += amount
    if total > order.paid_fen - order.refunded_fen:
        raise Conflict(OrdersError.REFUND_EXCEEDS_PAID)
    return parts, total


async def _lock_tenders(s: AsyncSession, order_id: int) -> list[Any]:
    """An order's tenders read fresh under the order's row lock, taken before its lines' (as reserving,
    rejecting and applying a refund all do): two concurrent refunds then split over what the other left.
    Only for an order paid by tenders: a plain order neither locks nor reads anything more (whether an
    order has tenders never changes, so the caller's unlocked read of it is enough to decide)."""
    locked = await s.scalar(select(Order.tenders).where(Order.id == order_id).with_for_update())
    if locked is None:
        raise RuntimeError(f"order {order_id} has no tenders")
    return list(locked)


async def _reserve_tenders(s: AsyncSession, order_id: int, tenders: list[Any] | None, total: int) -> list[Any] | None:
    """Split a reserved refund over the order's tenders (in proportion to what each has left) and
    reserve each share on the order; the refund keeps the split. None: a plain order, all gateway."""
    if tenders is None:
        return None
    parts = [{"tender": name, "amount_fen": fen} for name, fen in split_refund(total, left_of(tenders))]
    await _set_tenders(s, order_id, reserved(tenders, parts))
    return parts


async def _set_tenders(s: AsyncSession, order_id: int, tenders: list[Any], **values: Any) -> None:
    await s.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(tenders=tenders, **values)
        .execution_options(synchronize_session=False)
    )


async def request_refund(
    s: AsyncSession, *, order_id: int, customer_id: int, lines: Sequence[RefundLineCreate] | None, reason: str
) -> Refund:
    """A shopper asks for a refund of some units of some lines (all that is left, by default)."""
    order = await get_order(s, order_id=order_id, customer_id=customer_id)
    _refundable(order)
    refusal = await get_source(order.source).can_refund(s, order=order)  # e.g. a group still forming
    if refusal is not None:
        raise Conflict(refusal, order_status=order.status)
    by_id = {ln.id: ln for ln in order.lines}
    wanted: dict[int, int] = {}
    if lines is None:
        wanted = _all_left(order)
    else:
        for item in lines:
            if item.line_id not in by_id:
                raise AppError(OrdersError.LINE_NOT_IN_ORDER, status=404)
            wanted[item.line_id] = wanted.get(item.line_id, 0) + item.qty
    tenders = None if order.tenders is None else await _lock_tenders(s, order.id)
    parts, total = await _reserve_units(s, order, wanted)
    refund = Refund(
        order_id=order.id,
        customer_id=customer_id,
        status="pending",
        amount_fen=total,
        reason=reason,
        lines=parts,
        tender_parts=await _reserve_tenders(s, order.id, tenders, total),
        created_at=clock.now(),
    )
    s.add(refund)
    await s.flush()
    await events.publish(s, RefundRequested(refund_id=refund.id, order_id=order.id, amount_fen=total))
    return refund


async def system_refund(s: AsyncSession, *, order_id: int, reason: str, key: str) -> Refund:
    """Refund everything left of a paid order with no merchant approval (e.g. a failed group), once per `key`.

    Calling it again with the same key (a timer firing twice, a redelivered event) returns the first refund.
    """
    existing = await s.scalar(select(Refund).where(Refund.key == key))
    if existing is not None:
        return existing
    order = await get_order(s, order_id=order_id)
    _refundable(order)
    tenders = None if order.tenders is None else await _lock_tenders(s, order.id)
    parts, total = await _reserve_units(s, order, _all_left(order))
    refund = Refund(
        order_id=order.id,
        customer_id=order.customer_id,
        status="processing",
        kind="system",
        key=key,
        amount_fen=total,
        reason=reason,
        lines=parts,
        tender_parts=await _reserve_tenders(s, order.id, tenders, total),
        created_at=clock.now(),
        decided_at=clock.now(),
    )
    s.add(refund)
    await s.flush()
    await _send_to_gateway(s, refund.id, after="processing")
    return refund


async def get_refund(s: AsyncSession, *, refund_id: int) -> Refund:
    """A refund by id (fresh from the database), or NOT_FOUND."""
    r = await s.scalar(select(Refund).where(Refund.id == refund_id).execution_options(populate_existing=True))
    if r is None:
        raise not_found("refund")
    return r


async def refunds_of(s: AsyncSession, order_id: int) -> list[Refund]:
    """An order's refunds, oldest first."""
    return list((await s.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id))).all())


async def list_refunds(
    s: AsyncSession, *, status: str | None = None, before_id: int | None = None, limit: int = 20
) -> tuple[list[Refund], str | None]:
    """Refunds newest first, one keyset page."""
    stmt = select(Refund).order_by(Refund.id.desc())
    if status:
        stmt = stmt.where(Refund.status == status)
    if before_id:
        stmt = stmt.where(Refund.id < before_id)
    return await keyset_page(s, stmt, limit=limit)


async def _refund_cas(s: AsyncSession, refund_id: int, target: str, **values: Any) -> bool:
    res = await s.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status.in_(refund_transition_sources(target)))
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]


async def _send_to_gateway(s: AsyncSession, refund_id: int, *, after: str) -> None:
    """Queue the gateway call for a refund, once per state it left (a failed refund may be sent again)."""
    await jobs.schedule(
        s,
        "payments.execute_refund",
        {"refund_id": refund_id},
        due_at=clock.now(),
        key=f"refund-exec:{refund_id}:{after}",
    )


async def approve_refund(s: AsyncSession, *, refund_id: int, admin_id: int) -> Refund:
    """Approve: the refund goes to the gateway after this transaction commits (a job)."""
    refund = await get_refund(s, refund_id=refund_id)
    if not await _refund_cas(s, refund.id, "processing", decided_at=clock.now(), decided_by=admin_id):
        raise Conflict(OrdersError.REFUND_STATE_INVALID)
    await _send_to_gateway(s, refund.id, after=refund.status)
    return await get_refund(s, refund_id=refund.id)


async def reject_refund(s: AsyncSession, *, refund_id: int, admin_id: int, reason: str) -> Refund:
    """Refuse a pending refund: its lines become refundable again and any tender share held back is freed."""
    refund = await get_refund(s, refund_id=refund_id)
    if not await _refund_cas(
        s, refund.id, "rejected", decided_at=clock.now(), decided_by=admin_id, reject_reason=reason
    ):
        raise Conflict(OrdersError.REFUND_STATE_INVALID)
    if refund.tender_parts is not None:
        # The order's row before its lines, as reserving takes them: the tenders' reservation goes back too.
        tenders = await _lock_tenders(s, refund.order_id)
        await _set_tenders(s, refund.order_id, released(tenders, refund.tender_parts))
    for part in refund.lines:
        await s.execute(
            update(OrderLine)
            .where(OrderLine.id == part["line_id"])
            .values(
                refund_pending_qty=OrderLine.refund_pending_qty - part["qty"],
                refund_pending_fen=OrderLine.refund_pending_fen - part["amount_fen"],
            )
            .execution_options(synchronize_session=False)
        )
    return await get_refund(s, refund_id=refund.id)


async def refund_succeeded(s: AsyncSession, *, refund_id: int, gateway_refund_id: str | None) -> bool:
    """Apply a confirmed refund to the order, once: the gateway's share confirmed by the gateway
    (`gateway_refund_id` None: the refund had no gateway share). Each other tender gives its share back
    in this transaction (the `refunded` order hooks). False if it was applied already."""
    refund = await get_refund(s, refund_id=refund_id)
    now = clock.now()
    if not await _refund_cas(s, refund.id, "succeeded", succeeded_at=now, gateway_refund_id=gateway_refund_id):
        return False
    if refund.kind == "late_payment":
        # Money for an order that was never marked paid: the order's own figures do not move.
        await events.publish(
            s, LatePaymentRefunded(order_id=refund.order_id, refund_id=refund.id, amount_fen=refund.amount_fen)
        )
        return True
    if refund.tender_parts is None:
        await s.execute(
            update(Order)
            .where(Order.id == refund.order_id)
            .values(refunded_fen=Order.refunded_fen + refund.amount_fen)
            .execution_options(synchronize_session=False)
        )
        order = await get_order(s, order_id=refund.order_id)
    else:
        tenders = await _lock_tenders(s, refund.order_id)
        await _set_tenders(
            s,
            refund.order_id,
            given_back(tenders, refund.tender_parts),
            refunded_fen=Order.refunded_fen + refund.amount_fen,
        )
        order = await get_order(s, order_id=refund.order_id)
    for part in refund.lines:
        await s.execute(
            update(OrderLine)
            .where(OrderLine.id == part["line_id"])
            .values(
                refund_pending_qty=OrderLine.refund_pending_qty - part["qty"],
                refund_pending_fen=OrderLine.refund_pending_fen - part["amount_fen"],
                refunded_qty=OrderLine.refunded_qty + part["qty"],
                refunded_fen=OrderLine.refunded_fen + part["amount_fen"],
            )
            .execution_options(synchronize_session=False)
        )
        await events.publish(
            s,
            OrderLineRefunded(
                order_id=order.id,
                refund_id=refund.id,
                line_id=part["line_id"],
                qty=part["qty"],
                amount_fen=part["amount_fen"],
                customer_id=order.customer_id,
                source=order.source,
            ),
        )
    for hook in refund_hooks():
        await hook(s, order, refund)
    await events.publish(
        s, OrderRefunded(order_id=order.id, refund_id=refund.id, amount_fen=refund.amount_fen, kind=refund.kind)
    )
    order = await get_order(s, order_id=refund.order_id)
    if all(ln.refunded_qty == ln.qty for ln in order.lines):
        await _transition(s, order.id, "closed", closed_at=now)
    return True


async def refund_failed(s: AsyncSession, *, refund_id: int, detail: str) -> bool:
    """Mark a refund whose gateway call failed for good; True if this call moved it."""
    return await _refund_cas(s, refund_id, "failed", reject_reason=detail[:200])


_LATE_REASON = {
    "cancelled": "订单已取消，支付原路退回",
    "pending_payment": "支付金额与订单应付金额不符，原路退回",
}


async def late_payment_refund(s: AsyncSession, *, order_id: int, payment_id: int, amount_fen: int) -> Refund:
    """A payment confirmed after its order was cancelled (or paid by another of its payments) goes
    straight back, in full."""
    order = await lock_order(s, order_id=order_id)
    refund = Refund(
        order_id=order.id,
        customer_id=order.customer_id,
        payment_id=payment_id,
        status="processing",
        kind="late_payment",
        amount_fen=amount_fen,
        reason=_LATE_REASON.get(order.status, "订单已由另一笔支付付清，本笔原路退回"),
        lines=[],
        created_at=clock.now(),
    )
    s.add(refund)
    await s.flush()
    await _send_to_gateway(s, refund.id, after="processing")
    return refund


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
    if await _transition(s, order_id, "completed", completed_at=clock.now()):
        await events.publish(s, OrderCompleted(order_id=order_id, customer_id=order.customer_id, source=order.source))

"""After-sales: refund requests, the merchant's decision, the gateway's answer, late-payment refunds.

A refund reserves the units and amounts it returns on the order's lines (and the tenders' shares) under
the order's lock, so two refunds can never return the same unit or fen; the gateway is asked after the
commit (a job), and its answer gives stock, tenders and the order's state back exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, events, jobs
from fissionmall.core.db import keyset_page
from fissionmall.core.errors import AppError, Conflict, not_found
from fissionmall.orders import service as orders
from fissionmall.orders.errors import OrdersError
from fissionmall.orders.events import (
    LatePaymentRefunded,
    OrderLineRefunded,
    OrderRefunded,
    RefundRequested,
)
from fissionmall.orders.models import Order, OrderLine, Refund, RefundEntry
from fissionmall.orders.rules import (
    REFUNDABLE,
    refund_transition_sources,
    refunds_shipping,
)
from fissionmall.orders.schemas import RefundLineCreate
from fissionmall.orders.sources import get_source, refund_hooks
from fissionmall.orders.tenders import given_back, left_of, released, reserved, split_refund
from fissionmall.pricing.rules import refund_amount


def _refundable(order: Order) -> None:
    if order.status not in REFUNDABLE:
        raise Conflict(OrdersError.REFUND_NOT_ALLOWED, order_status=order.status)


def _all_left(order: Order) -> dict[int, int]:
    left = {ln.id: ln.qty - ln.refunded_qty - ln.refund_pending_qty for ln in order.lines}
    return {k: v for k, v in left.items() if v > 0}


def plan_refund(
    lines: Sequence[OrderLine], wanted: dict[int, int], *, service: str, reason_code: str
) -> list[dict[str, int]]:
    """The exact parts of a refund of `wanted` units per line ([{line_id, qty, amount_fen, shipping_fen}]),
    pure. Goods only, unit by unit (the last unit of a line closes its goods to the fen); the refund that
    returns everything left on the order also carries each line's unrefunded shipping (a line it returns
    no unit of gets a part of qty 0), unless the shipping rule (rules.refunds_shipping) says otherwise."""
    if not wanted:
        raise Conflict(OrdersError.NOTHING_TO_REFUND)
    by_id = {ln.id: ln for ln in lines}
    parts: dict[int, dict[str, int]] = {}
    for line_id, qty in sorted(wanted.items()):
        ln = by_id[line_id]
        ahead = ln.refunded_qty + ln.refund_pending_qty
        if ahead + qty > ln.qty:
            raise Conflict(OrdersError.REFUND_QTY_EXCEEDED, line_id=line_id)
        goods = ln.payable_fen - ln.shipping_fen
        # Shipping only ever leaves with a line's last refund, so what is held or refunded so far is goods
        # (clamped: refunds before this rule spread shipping over the units).
        goods_left = max(0, goods - ln.refunded_fen - ln.refund_pending_fen)
        amount = goods_left if ahead + qty == ln.qty else min(goods_left, refund_amount(goods, ln.qty, ahead, qty))
        parts[line_id] = {"line_id": line_id, "qty": qty, "amount_fen": amount, "shipping_fen": 0}
    returns_all_left = all(ln.refunded_qty + ln.refund_pending_qty + wanted.get(ln.id, 0) == ln.qty for ln in lines)
    if refunds_shipping(service=service, reason_code=reason_code, returns_all_left=returns_all_left):
        for ln in lines:
            held = ln.refunded_fen + ln.refund_pending_fen + parts.get(ln.id, {}).get("amount_fen", 0)
            ship_left = ln.payable_fen - held
            if ship_left > 0:
                part = parts.setdefault(ln.id, {"line_id": ln.id, "qty": 0, "amount_fen": 0, "shipping_fen": 0})
                part["amount_fen"] += ship_left
                part["shipping_fen"] += ship_left
    return [parts[k] for k in sorted(parts)]


def _stored(parts: list[dict[str, int]]) -> list[dict[str, int]]:
    """A refund's parts as stored and answered, {line_id, qty, amount_fen}: the shipping in them is the
    refund's own shipping_fen."""
    return [{"line_id": p["line_id"], "qty": p["qty"], "amount_fen": p["amount_fen"]} for p in parts]


async def _reserve_units(
    s: AsyncSession, order: Order, wanted: dict[int, int], *, service: str = "refund_only", reason_code: str = "other"
) -> tuple[list[dict[str, int]], int]:
    """Mark units of lines as being refunded and work out their exact amounts (plan_refund)."""
    if not wanted:
        raise Conflict(OrdersError.NOTHING_TO_REFUND)
    # Lock the order's lines in id order and read them fresh: two concurrent requests then see each other's
    # reservations, so no unit is refunded twice, the last unit closes the line to the fen, and only one
    # refund can be the one that returns everything left (and carries the shipping).
    locked = (
        await s.scalars(
            select(OrderLine)
            .where(OrderLine.order_id == order.id)
            .order_by(OrderLine.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    parts = plan_refund(locked, wanted, service=service, reason_code=reason_code)
    by_id = {ln.id: ln for ln in locked}
    for part in parts:
        ln = by_id[part["line_id"]]
        ln.refund_pending_qty += part["qty"]
        ln.refund_pending_fen += part["amount_fen"]
    total = sum(p["amount_fen"] for p in parts)
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


def wanted_units(order: Order, lines: Sequence[RefundLineCreate] | None) -> dict[int, int]:
    """The units per line a request names (all that is left, by default); LINE_NOT_IN_ORDER otherwise."""
    if lines is None:
        return _all_left(order)
    by_id = {ln.id: ln for ln in order.lines}
    wanted: dict[int, int] = {}
    for item in lines:
        if item.line_id not in by_id:
            raise AppError(OrdersError.LINE_NOT_IN_ORDER, status=404)
        wanted[item.line_id] = wanted.get(item.line_id, 0) + item.qty
    return wanted


async def check_refundable(s: AsyncSession, *, order: Order, service: str) -> None:
    """Refuse a request the order's state (or its source) does not allow; a return needs shipped goods."""
    _refundable(order)
    if service == "return" and order.status == "paid":
        raise Conflict(OrdersError.RETURN_NOT_SHIPPED, order_status=order.status)
    refusal = await get_source(order.source).can_refund(s, order=order)  # e.g. a group still forming
    if refusal is not None:
        raise Conflict(refusal, order_status=order.status)


async def request_refund(
    s: AsyncSession,
    *,
    order_id: int,
    customer_id: int,
    lines: Sequence[RefundLineCreate] | None,
    reason: str,
    service: str = "refund_only",
    reason_code: str = "other",
    images: Sequence[str] = (),
) -> Refund:
    """A shopper asks for a refund (仅退款) or a return (退货退款) of some units of some lines (all that is left,
    by default)."""
    order = await orders.get_order(s, order_id=order_id, customer_id=customer_id)
    await check_refundable(s, order=order, service=service)
    wanted = wanted_units(order, lines)
    tenders = None if order.tenders is None else await _lock_tenders(s, order.id)
    parts, total = await _reserve_units(s, order, wanted, service=service, reason_code=reason_code)
    refund = Refund(
        order_id=order.id,
        customer_id=customer_id,
        status="pending",
        amount_fen=total,
        reason=reason,
        lines=_stored(parts),
        tender_parts=await _reserve_tenders(s, order.id, tenders, total),
        created_at=clock.now(),
        service=service,
        reason_code=reason_code,
        images=list(images),
        shipping_fen=sum(p.get("shipping_fen", 0) for p in parts),
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
    order = await orders.get_order(s, order_id=order_id)
    _refundable(order)
    tenders = None if order.tenders is None else await _lock_tenders(s, order.id)
    parts, total = await _reserve_units(s, order, _all_left(order))
    refund = Refund(
        order_id=order.id,
        customer_id=order.customer_id,
        status="processing",
        kind="system",
        shipping_fen=sum(p.get("shipping_fen", 0) for p in parts),
        key=key,
        amount_fen=total,
        reason=reason,
        lines=_stored(parts),
        tender_parts=await _reserve_tenders(s, order.id, tenders, total),
        created_at=clock.now(),
        decided_at=clock.now(),
    )
    s.add(refund)
    await s.flush()
    await send_to_gateway(s, refund_id=refund.id, after="processing")
    return refund


async def get_refund(s: AsyncSession, *, refund_id: int) -> Refund:
    """A refund by id (fresh from the database), or NOT_FOUND."""
    r = await s.scalar(select(Refund).where(Refund.id == refund_id).execution_options(populate_existing=True))
    if r is None:
        raise not_found("refund")
    return r


async def refunds_of(s: AsyncSession, *, order_id: int) -> list[Refund]:
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


async def refund_cas(
    s: AsyncSession, *, refund_id: int, target: str, expected: Sequence[str] | None = None, **values: Any
) -> bool:
    """Move a refund to `target` from `expected` (default: every state the table allows), exactly once."""
    res = await s.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status.in_(expected or refund_transition_sources(target)))
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]


async def send_to_gateway(s: AsyncSession, *, refund_id: int, after: str) -> None:
    """Queue the gateway call for a refund, once per state it left (a failed refund may be sent again)."""
    await jobs.schedule(
        s,
        "payments.execute_refund",
        {"refund_id": refund_id},
        due_at=clock.now(),
        key=f"refund-exec:{refund_id}:{after}",
    )


async def approve_refund(s: AsyncSession, *, refund_id: int, admin_id: int) -> Refund:
    """Approve a 仅退款 (or retry a failed refund): it goes to the gateway after this transaction commits (a
    job). A return waiting for the merchant is approved by aftersales.approve instead."""
    refund = await get_refund(s, refund_id=refund_id)
    expected = ["pending", "failed"] if refund.service == "refund_only" else ["failed"]
    now = clock.now()
    if not await refund_cas(
        s, refund_id=refund.id, target="processing", expected=expected, decided_at=now, decided_by=admin_id
    ):
        raise Conflict(OrdersError.REFUND_STATE_INVALID)
    await send_to_gateway(s, refund_id=refund.id, after=refund.status)
    if refund.status == "pending":
        actor = "system" if admin_id == 0 else "merchant"
        await add_entry(s, refund_id=refund.id, actor=actor, action="approved", text="同意退款，款项原路退回")
    return await get_refund(s, refund_id=refund.id)


async def add_entry(
    s: AsyncSession, *, refund_id: int, actor: str, action: str, text: str = "", images: Sequence[str] = ()
) -> None:
    """Add one step to a refund's negotiation history (协商记录)."""
    s.add(
        RefundEntry(
            refund_id=refund_id, actor=actor, action=action, text=text, images=list(images), created_at=clock.now()
        )
    )
    await s.flush()


async def entries_of(s: AsyncSession, *, refund_id: int) -> list[RefundEntry]:
    """A refund's negotiation history, oldest first."""
    stmt = select(RefundEntry).where(RefundEntry.refund_id == refund_id).order_by(RefundEntry.id)
    return list((await s.scalars(stmt)).all())


async def release(s: AsyncSession, *, refund: Refund) -> None:
    """Give back what a refund that will never go out held: its units, fen and tender shares (call it only
    after the compare-and-set that ended the refund, so it runs once)."""
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


async def reject_refund(s: AsyncSession, *, refund_id: int, admin_id: int, reason: str) -> Refund:
    """Refuse a pending refund: its lines become refundable again and any tender share held back is freed."""
    refund = await get_refund(s, refund_id=refund_id)
    if not await refund_cas(
        s, refund_id=refund.id, target="rejected", decided_at=clock.now(), decided_by=admin_id, reject_reason=reason
    ):
        raise Conflict(OrdersError.REFUND_STATE_INVALID)
    await release(s, refund=refund)
    await add_entry(s, refund_id=refund.id, actor="merchant", action="rejected", text=reason)
    return await get_refund(s, refund_id=refund.id)


async def refund_succeeded(s: AsyncSession, *, refund_id: int, gateway_refund_id: str | None) -> bool:
    """Apply a confirmed refund to the order, once: the gateway's share confirmed by the gateway
    (`gateway_refund_id` None: the refund had no gateway share). Each other tender gives its share back
    in this transaction (the `refunded` order hooks). False if it was applied already."""
    refund = await get_refund(s, refund_id=refund_id)
    now = clock.now()
    if not await refund_cas(
        s, refund_id=refund.id, target="succeeded", succeeded_at=now, gateway_refund_id=gateway_refund_id
    ):
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
        order = await orders.get_order(s, order_id=refund.order_id)
    else:
        tenders = await _lock_tenders(s, refund.order_id)
        await _set_tenders(
            s,
            refund.order_id,
            given_back(tenders, refund.tender_parts),
            refunded_fen=Order.refunded_fen + refund.amount_fen,
        )
        order = await orders.get_order(s, order_id=refund.order_id)
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
        if not part["qty"]:
            continue  # the order's shipping carried by its last refund: no unit of the line went back
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
    if refund.kind == "after_sales":
        await add_entry(s, refund_id=refund.id, actor="system", action="succeeded", text="退款成功，款项已原路退回")
    await events.publish(
        s, OrderRefunded(order_id=order.id, refund_id=refund.id, amount_fen=refund.amount_fen, kind=refund.kind)
    )
    order = await orders.get_order(s, order_id=refund.order_id)
    if all(ln.refunded_qty == ln.qty for ln in order.lines):
        await orders.transition(s, order_id=order.id, target="closed", closed_at=now)
    return True


async def refund_failed(s: AsyncSession, *, refund_id: int, detail: str) -> bool:
    """Mark a refund whose gateway call failed for good; True if this call moved it."""
    return await refund_cas(s, refund_id=refund_id, target="failed", reject_reason=detail[:200])


_LATE_REASON = {
    "cancelled": "订单已取消，支付原路退回",
    "pending_payment": "支付金额与订单应付金额不符，原路退回",
}


async def late_payment_refund(s: AsyncSession, *, order_id: int, payment_id: int, amount_fen: int) -> Refund:
    """A payment confirmed after its order was cancelled (or paid by another of its payments) goes
    straight back, in full."""
    order = await orders.lock_order(s, order_id=order_id)
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
    await send_to_gateway(s, refund_id=refund.id, after="processing")
    return refund

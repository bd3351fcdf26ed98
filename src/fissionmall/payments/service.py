"""Payments: start one, confirm it exactly once, refund through the gateway.

Confirmation is a compare-and-set on the payment (`pending → succeeded`), so
however many times and however concurrently a notification arrives, one
delivery wins and the rest are answered "already done" with nothing changed.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.core import clock, jobs
from fissionmall.core.errors import AppError, Conflict
from fissionmall.orders import service as orders
from fissionmall.orders.models import Refund
from fissionmall.payments.gateway import Notification, SandboxGateway, get_gateway
from fissionmall.payments.models import GatewayNotification, Payment

log = logging.getLogger("fissionmall.payments")


async def start_payment(
    s: AsyncSession, *, order_id: int, customer_id: int, method: str, gateway_name: str
) -> tuple[Payment, dict[str, object]]:
    """Open a payment for an unpaid order (reusing an open one), and what the client needs to pay."""
    order = await orders.get_order(s, order_id=order_id, customer_id=customer_id)
    if method == "wallet":
        raise AppError("PAYMENT_METHOD_UNAVAILABLE", "stored-value payment arrives with the loyalty issue")
    if order.status != "pending_payment":
        raise Conflict(
            "ORDER_NOT_PAYABLE", f"an order that is {order.status} cannot be paid", order_status=order.status
        )
    if order.pay_deadline <= clock.now():
        raise Conflict("ORDER_PAY_EXPIRED", "the time to pay this order has run out")
    payment = await s.scalar(
        select(Payment).where(
            Payment.order_id == order.id,
            Payment.status == "pending",
            Payment.method == method,
            Payment.gateway == gateway_name,
        )
    )
    if payment is None or payment.amount_fen != order.payable_fen:
        payment = Payment(
            order_id=order.id,
            customer_id=customer_id,
            method=method,
            gateway=gateway_name,
            amount_fen=order.payable_fen,
            status="pending",
            created_at=clock.now(),
        )
        s.add(payment)
        await s.flush()
    openid = await s.scalar(select(Customer.openid).where(Customer.id == customer_id))
    client = await get_gateway(gateway_name).prepay(
        payment_id=payment.id, amount_fen=payment.amount_fen, description=f"订单 {order.no}", payer_openid=openid or ""
    )
    return payment, client


async def get_payment(s: AsyncSession, *, payment_id: int, customer_id: int | None = None) -> Payment:
    q = select(Payment).where(Payment.id == payment_id)
    if customer_id is not None:
        q = q.where(Payment.customer_id == customer_id)
    p = await s.scalar(q.execution_options(populate_existing=True))
    if p is None:
        raise AppError("PAYMENT_NOT_FOUND", "payment not found", status=404)
    return p


async def _log(s: AsyncSession, gateway: str, kind: str, ref: object, outcome: str, detail: str = "") -> None:
    s.add(
        GatewayNotification(
            gateway=gateway,
            kind=kind,
            reference=None if ref is None else str(ref),
            outcome=outcome,
            detail=detail[:2000],
            received_at=clock.now(),
        )
    )


async def apply_notification(s: AsyncSession, *, gateway: str, note: Notification) -> str:
    """Apply a verified notification. Returns the outcome; never applies anything twice."""
    if note.kind == "payment":
        outcome = await _payment_confirmed(s, gateway=gateway, note=note)
    else:
        outcome = await _refund_confirmed(s, note=note)
    await _log(s, gateway, note.kind, note.reference, outcome)
    return outcome


async def _payment_confirmed(s: AsyncSession, *, gateway: str, note: Notification) -> str:
    payment = await s.get(Payment, note.reference)
    if payment is None or payment.gateway != gateway:
        return "unknown_reference"
    if note.currency != "CNY" or note.amount_fen != payment.amount_fen:
        return "amount_mismatch"
    if not note.success:
        return "not_success"
    res = await s.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.in_(("pending", "closed")))
        .values(
            status="succeeded",
            paid_at=clock.now(),
            gateway_txn_id=note.external_id,
            payer_total_fen=note.payer_total_fen,
            promotion_detail=list(note.promotions) or None,
        )
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return "duplicate"
    if not await orders.mark_paid(s, order_id=payment.order_id, amount_fen=payment.amount_fen, payment_id=payment.id):
        # Money arrived for an order that was cancelled or already paid: send it straight back.
        await orders.late_payment_refund(
            s, order_id=payment.order_id, payment_id=payment.id, amount_fen=payment.amount_fen
        )
        return "refunded_late_payment"
    await s.execute(
        update(Payment)
        .where(Payment.order_id == payment.order_id, Payment.status == "pending")
        .values(status="closed")
        .execution_options(synchronize_session=False)
    )
    return "applied"


async def _refund_confirmed(s: AsyncSession, *, note: Notification) -> str:
    refund = await s.get(Refund, note.reference)
    if refund is None:
        return "unknown_reference"
    if note.amount_fen != refund.amount_fen:
        return "amount_mismatch"
    if not note.success:
        return "failed" if await orders.refund_failed(s, refund_id=refund.id, detail="gateway refused") else "duplicate"
    ok = await orders.refund_succeeded(s, refund_id=refund.id, gateway_refund_id=note.external_id)
    return "applied" if ok else "duplicate"


async def record_rejected(s: AsyncSession, *, gateway: str, code: str, detail: str) -> None:
    await _log(s, gateway, "unknown", None, code.lower(), detail)


async def paid_payment_of(s: AsyncSession, order_id: int) -> Payment | None:
    return await s.scalar(
        select(Payment).where(Payment.order_id == order_id, Payment.status == "succeeded").order_by(Payment.id)
    )


@jobs.handler("payments.execute_refund")
async def _execute_refund(s: AsyncSession, job: jobs.Job) -> None:
    """Send an approved refund to the gateway that took the money (after the approval committed)."""
    refund = await s.get(Refund, job.payload["refund_id"])
    if refund is None or refund.status != "processing":
        return
    payment = (await s.get(Payment, refund.payment_id)) if refund.payment_id else None
    if payment is None:
        payment = await paid_payment_of(s, refund.order_id)
        if payment is None:
            raise RuntimeError(f"refund {refund.id}: the order has no succeeded payment")
        refund.payment_id = payment.id
    gw = get_gateway(payment.gateway)
    await gw.refund(
        refund_id=refund.id, payment_id=payment.id, amount_fen=refund.amount_fen, total_fen=payment.amount_fen
    )
    if isinstance(gw, SandboxGateway):
        await jobs.schedule(
            s,
            "payments.sandbox_refund_notify",
            {"refund_id": refund.id},
            due_at=clock.now(),
            key=f"sandbox-refund:{refund.id}",
        )


@jobs.handler("payments.sandbox_refund_notify")
async def _sandbox_refund_notify(s: AsyncSession, job: jobs.Job) -> None:
    """The sandbox bank calling back: a signed notification through the gateway's own parser."""
    refund = await s.get(Refund, job.payload["refund_id"])
    if refund is None:
        return
    gw = get_gateway("sandbox")
    assert isinstance(gw, SandboxGateway)
    headers, body = gw.notification(
        {
            "kind": "refund",
            "reference": refund.id,
            "amount_fen": refund.amount_fen,
            "external_id": f"SBR{refund.id:010d}",
            "status": "SUCCESS",
        }
    )
    await apply_notification(s, gateway="sandbox", note=gw.parse_notification(headers, body))


@jobs.on("OrderCancelled", "payments.close_open_payments")
async def _close_open_payments(s: AsyncSession, job: jobs.Job) -> None:
    await s.execute(
        update(Payment)
        .where(Payment.order_id == job.payload["order_id"], Payment.status == "pending")
        .values(status="closed")
        .execution_options(synchronize_session=False)
    )


async def list_notifications(
    s: AsyncSession, *, exclude_outcomes: frozenset[str] = frozenset(), limit: int = 100
) -> list[GatewayNotification]:
    """Recent gateway notifications, newest first (without the given outcomes, e.g. the successful ones)."""
    q = select(GatewayNotification).order_by(GatewayNotification.id.desc()).limit(limit)
    if exclude_outcomes:
        q = q.where(GatewayNotification.outcome.not_in(sorted(exclude_outcomes)))
    return list((await s.scalars(q)).all())


async def list_payments(
    s: AsyncSession,
    *,
    status: str | None = None,
    gateway: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[Payment], str | None]:
    """Payments newest first, for the console."""
    q = select(Payment).order_by(Payment.id.desc()).limit(limit + 1)
    if status:
        q = q.where(Payment.status == status)
    if gateway:
        q = q.where(Payment.gateway == gateway)
    if before_id:
        q = q.where(Payment.id < before_id)
    rows = list((await s.scalars(q)).all())
    return rows[:limit], (str(rows[limit - 1].id) if len(rows) > limit else None)


async def stale_pending(s: AsyncSession, *, older_than: timedelta, limit: int = 200) -> list[Payment]:
    """Payments still pending after `older_than`: the ones whose notification may have been lost."""
    cutoff = clock.now() - older_than
    q = select(Payment).where(Payment.status == "pending", Payment.created_at <= cutoff).order_by(Payment.id)
    return list((await s.scalars(q.limit(limit))).all())


async def gateway_promoted(s: AsyncSession, *, limit: int = 50) -> list[Payment]:
    """Recent succeeded payments that a gateway coupon paid part of (for reconciling the gateway's bill)."""
    q = (
        select(Payment)
        .where(Payment.status == "succeeded", Payment.payer_total_fen < Payment.amount_fen)
        .order_by(Payment.id.desc())
        .limit(limit)
    )
    return list((await s.scalars(q)).all())
